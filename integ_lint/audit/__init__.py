"""Audit: review certificates for one component of a project.

``model`` builds the content of a certificate from a report and the project index
(integration points, critical issues, strengths, metrics, the decision);
``certificate`` writes it (Markdown and canonical JSON with its hash) and verifies a
written certificate against the tree it describes.

May import: the engine, the project model, facts, findings, config and files. Never
rules or the command line.
"""
