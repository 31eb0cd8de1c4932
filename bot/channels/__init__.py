"""Messenger adapters: each turns its updates into `Incoming` and `Reply` into API calls."""
