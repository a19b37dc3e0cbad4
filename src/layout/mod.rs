//! Graph -> terminal cells: layering, crossing reduction, placement, routing, viewport. Pure; imports nothing in the crate.
