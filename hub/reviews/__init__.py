"""Product reviews: buyers' reviews of delivered order lines, with edit history, and reviews pulled from channels."""
