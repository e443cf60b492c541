"""The README's notebook walk-through, as a script: load the demo city, assign its
components and some messy points, count by H3, plot with GeoPandas.

    python crates/gridtwin-py/examples/walkthrough.py   # from the repository root
"""

import pandas as pd

import gridtwin

pd.set_option("display.width", 100)

# 1. Load a city: every layer a GeoDataFrame, every rejected record accounted for
city = gridtwin.City.load("data/helsinki/city")
print(city)
print(city.grids[["code", "name", "parent"]].head(3))

# 2. Assign: a GeoDataFrame of points to grid, community, street and district
out = gridtwin.assign(city.components, city)
print(out[["code", "category", "grid_code", "community_code", "outcome"]].head(3))
r = gridtwin.report(out)
print({k: r[k] for k in ("rows", "assigned", "nearest", "unassigned", "rejected")})

# ... or plain lon/lat columns, messy as they come
messy = pd.DataFrame({"id": [1, 2, 3, 4], "lon": ["24.9413", "abc", None, "24.9400"],
                      "lat": [60.1703, 60.17, 60.17, 60.1632]})
m = gridtwin.assign(messy, city, nearest_m=500)
print(m[["id", "grid_code", "outcome", "reason", "distance_m"]])
print(gridtwin.report(m)["rejected_by_reason"])

# 3. Count by H3 cell (any resolution) and plot with GeoPandas
cells = gridtwin.aggregate(city.components, by="h3:9", grids=city, geometry=True)
print(cells.sort_values("count", ascending=False)[["h3_r9", "count"]].head(3))
ax = cells.plot(column="count", cmap="viridis", legend=True, figsize=(7, 5))
city.grids.boundary.plot(ax=ax, color="white", linewidth=0.3)
ax.set_title("Helsinki demo: components per H3 cell (res 9)")
ax.figure.savefig("out/h3_components.png", dpi=110, bbox_inches="tight")
print("wrote out/h3_components.png")
