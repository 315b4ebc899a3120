"""The forum's Jinja templates, installed as the package ``forum.templates`` (located by the app
factory with importlib.resources, so a checkout and an installed wheel find them the same way)."""
