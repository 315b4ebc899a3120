"""User Markdown to safe HTML (forum.core.markdown): sanitised, rendered by one converter per
thread that forgets each text before the next, and kept for texts shown again."""

from __future__ import annotations

import threading

from forum.core import markdown


def test_script_handlers_and_javascript_links_do_not_survive():
    html = str(markdown.render('<script>alert(1)</script><img src=x onerror="alert(2)">'
                               '[click](javascript:alert(3)) [site](https://example.org)'))
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert 'href="https://example.org"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_tables_fenced_code_and_lists_render():
    html = str(markdown.render("| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode <here>\n```\n\n1. one\n2. two"))
    assert "<table>" in html and "<td>1</td>" in html
    assert "<pre><code>code &lt;here&gt;" in html
    assert "<ol>" in html and "<li>two</li>" in html


def test_a_text_does_not_inherit_the_link_definitions_of_the_one_before():
    first = str(markdown.render("See [the report][r].\n\n[r]: https://example.org/report"))
    assert 'href="https://example.org/report"' in first
    second = str(markdown.render("See [the report][r]."))
    assert "href" not in second  # the converter was reset: [r] is undefined here


def test_the_same_text_renders_the_same_from_the_cache():
    text = "A **repeated** comment, shown on every view of its page."
    markdown._to_html.cache_clear()
    first = markdown.render(text)
    second = markdown.render(text)
    assert first == second and "<strong>repeated</strong>" in str(first)
    assert markdown._to_html.cache_info().hits == 1
    assert markdown.render(None) == markdown.render("") == ""


def test_threads_rendering_at_once_each_get_their_own_text():
    markdown._to_html.cache_clear()
    start = threading.Barrier(8)
    results: dict[int, str] = {}

    def work(n: int) -> None:
        start.wait()
        results[n] = "".join(str(markdown.render(f"Thread **{n}** line {i}")) for i in range(50))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n, html in results.items():
        assert html == "".join(f"<p>Thread <strong>{n}</strong> line {i}</p>" for i in range(50))
