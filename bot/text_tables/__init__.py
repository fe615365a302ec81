"""The bot's texts, one module per dialog, each with an ``EN`` and an ``ES`` table.

:mod:`bot.texts` merges them into one catalogue per locale; callers use that module, not these.
"""
