"""Hands on the model: the endpoints that serve each version of an AI system of the register
(OpenAI-compatible chat completions), and probes — a prompt run against two versions side by side,
each answer judged acceptable or not, saved to the trail."""


def init_app(app) -> None:
    from forum.probes.views import bp

    app.register_blueprint(bp)
