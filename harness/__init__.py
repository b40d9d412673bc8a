"""Reproduction and regression harness for Python ASGI servers (uvicorn first)."""

__version__ = "0.1.0"
