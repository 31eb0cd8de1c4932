"""The SOTAY_SECRET_KEY tests configure wherever a messenger token is set (it is required then)."""

TEST_SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
