"""Page bodies: Markdown ⇄ Notion blocks, the smallest set of block calls between two bodies.

    markdown.py   Markdown → nodes (the canonical form of a body)
    text.py       nodes → Markdown (what the plan shows as the body's before and after)
    blocks.py     nodes ⇄ Notion block JSON (limits, splitting), the body's hash
    diff.py       current body + desired nodes → block operations (pure)
    read.py       which bodies the read stage fetches, and fetching them

A node is JSON: {"type", "rich_text": [span], "children": [node]} plus "checked" (to_do) and
"language" (code); a span is {"text"} plus "marks" (sorted annotation names) and "link". A node
read from Notion also carries its block "id". Everything here but read.py is pure.
"""
