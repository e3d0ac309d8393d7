"""What the dashboard's tests read a page as."""

import re


def text(response) -> str:
    """The page's HTML with its whitespace runs made single spaces."""
    return re.sub(r"\s+", " ", response.content.decode())
