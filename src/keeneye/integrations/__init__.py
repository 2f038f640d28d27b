"""Integrations with the tools teams already run: Prometheus, Alertmanager, Grafana, …"""
