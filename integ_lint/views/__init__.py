"""Views: pictures and exports of the project model.

``export`` writes a graph as DOT, GraphML, JSON or Mermaid; ``draw`` lays one out as
SVG or a self-contained HTML page without any external tool.

May import: the engine, the project model, facts, findings, config and files. Never
rules or the command line.
"""
