"""Views: pictures and exports of the project model.

``export`` writes a graph as DOT, GraphML, JSON or Mermaid (and the manager graph's
Mermaid); ``draw`` lays one out as SVG or a self-contained HTML page without any
external tool; ``messages`` is the message flow (components -> events -> components).

May import: the engine, the project model, facts, findings, config and files. Never
rules or the command line.
"""
