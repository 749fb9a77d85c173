"""The rendering engine: how streamed text becomes screen updates fast.

Everything here that leans on Textual's or Rich's private internals checks them first
(``internals``) and falls back to stock behaviour; nothing outside this package touches them.
"""
