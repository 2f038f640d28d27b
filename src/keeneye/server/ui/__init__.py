"""keeneye's web UI, served by ``keeneye server`` at ``/`` (see ``docs/ui.md``).

The app includes :mod:`keeneye.server.ui.routes` through ``ROUTER_MODULES``.
"""
