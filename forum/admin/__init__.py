"""Administration pages: accounts and the organisation's functions (admins only)."""
