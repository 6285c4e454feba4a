"""Integrations with other libraries, each imported only when used.

Nothing else in signalkit imports these modules, so their optional
dependencies are needed only by the projects that use them.
"""
