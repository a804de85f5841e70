"""The reviewer console: a local web UI on 127.0.0.1 (the app factory is admin.console.app).

This file imports nothing: admin/evidence_copies.py, which runs without
Flask, uses admin.console.images, and importing any module of this package
runs this file first.
"""
