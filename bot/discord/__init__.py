"""Discord adapter: the `/movie` slash command served by a discord.py client.

Import submodules by absolute name (`bot.discord.client`): this package must never shadow the
`discord` library.
"""
