"""The register of AI systems: each system the organisation buys, builds or runs, the version in
use and its history. Items name the system they are about (forum.items); the register's pages
(forum.register) bring its items, evidence and decisions together."""


def init_app(app) -> None:
    """Nothing to wire: the pages are forum.register's, the API's are forum.api's."""
