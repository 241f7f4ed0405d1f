"""A household text world in the spirit of ALFWorld, written here and generated from a
seed: ``world`` (rooms, receptacles, objects, goals), ``commands`` (the ALFWorld-style
command language), ``planner`` (the expert) and ``env`` (the Gymnasium env)."""
