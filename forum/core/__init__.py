"""Pieces shared by every area: Markdown rendering, page helpers, security headers, errors."""
