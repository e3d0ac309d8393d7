HOST = "http://openalgo.test"
KEY = "test-key-0123456789abcdef"


def url(endpoint: str) -> str:
    return f"{HOST}/api/v1/{endpoint}"
