"""A terminal QQ client on bridge.qq.client: ``python -m bridge.qq.console``.

``commands`` parses typed lines, ``render`` words the output (both pure); ``app`` wires
them to a QQClient and stdin.
"""
