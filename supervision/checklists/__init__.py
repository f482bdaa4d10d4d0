"""一细则: inspection checklists (检查实施细则) per item, and the answers inspectors give.

``spec`` reads and lints the checklist files (the shipped ``checklists/`` folder);
``answers`` reads an inspector's answers and proposes and checks the result code.
Both are pure: no database, no web framework.
"""
