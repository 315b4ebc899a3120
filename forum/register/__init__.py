"""The register's pages: AI systems with their items, evidence, versions and decisions in one
place, and the model update that reaches every item about a system."""


def init_app(app) -> None:
    from forum.register import grouping
    from forum.register.views import bp

    app.register_blueprint(bp)
    grouping.listen(app.extensions["forum.sessionmaker"])
