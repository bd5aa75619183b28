"""Reference points for the CRS tests (crates/twin-core/src/crs.rs), pyproj 3.7.2 / PROJ 9.5.1.

Prints the PROJ_DEFAULT and PROJ_SAME_HELMERT tables. Usage: python3 crs_reference.py
"""
import re
# points and +towgs84 definitions
import pyproj
P = {
 25832: [(9.99,53.54),(11.576,48.137),(6.0,50.0),(12.0,54.0),(8.5,47.5),(9.0,30.0),(10.5,70.0),(7.0,38.8),(3.0,52.0),(13.5,48.0)],
 25833: [(13.4,52.52),(12.0,51.0),(18.0,54.0),(15.0,47.0),(14.5,60.0)],
 25835: [(24.94,60.17),(24.0,60.0),(30.0,65.0),(27.0,70.0),(25.5,45.0)],
 32632: [(9.99,53.54),(6.0,0.5),(12.0,30.0),(9.0,80.0),(15.0,10.0)],
 32631: [(2.35,48.85),(0.0,40.0),(6.0,60.0)],
 3857: [(9.99,53.54),(0.0,0.0),(-122.4,37.8),(179.9,84.9),(-179.9,-84.9),(139.7,35.7)],
 31467: [(9.99,53.54),(9.0,48.0),(7.6,50.0),(10.5,54.5),(8.68,50.11),(6.96,50.94),(9.18,48.78),(10.0,52.0),(8.0,53.0),(9.5,47.6)],
 31468: [(11.576,48.137),(12.0,50.0),(10.6,47.5),(13.4,52.52),(11.08,49.45),(12.37,51.34),(11.6,49.95),(13.5,54.0),(10.7,53.8),(12.1,48.5)],
 28992: [(4.3,52.08),(5.38763888888889,52.15616055555555),(4.9,52.37),(3.4,51.4),(7.1,53.2),(5.7,50.8),(6.1,52.5),(4.48,51.92),(5.12,52.09),(6.56,53.22)],
 2056: [(8.54,47.37),(7.43958333333333,46.9524055555556),(6.14,46.2),(9.5,46.8),(10.3,46.6),(7.6,47.55),(8.95,46.0),(6.5,46.5),(9.37,47.42),(8.0,46.5)],
}
TOWGS = {31467: "+proj=tmerc +lat_0=0 +lon_0=9 +k=1 +x_0=3500000 +y_0=0 +ellps=bessel +towgs84=598.1,73.7,418.2,0.202,0.045,-2.455,6.7 +units=m +type=crs",
 31468: "+proj=tmerc +lat_0=0 +lon_0=12 +k=1 +x_0=4500000 +y_0=0 +ellps=bessel +towgs84=598.1,73.7,418.2,0.202,0.045,-2.455,6.7 +units=m +type=crs",
 28992: "+proj=sterea +lat_0=52.15616055555555 +lon_0=5.38763888888889 +k=0.9999079 +x_0=155000 +y_0=463000 +ellps=bessel +towgs84=565.417,50.3319,465.552,-0.398957,0.343988,-1.8774,4.0725 +units=m +type=crs",
 2056: "+proj=somerc +lat_0=46.9524055555556 +lon_0=7.43958333333333 +k_0=1 +x_0=2600000 +y_0=1200000 +ellps=bessel +towgs84=674.374,15.056,405.346 +units=m +type=crs"}

import pyproj
out=[]
out.append("    /// (EPSG, [(lon, lat), (x, y)]) from pyproj 3.7.2 / PROJ 9.5.1, `Transformer.from_crs(4326, code, always_xy=True)`")
out.append("    /// (the default pipeline: for DHDN and Amersfoort, EPSG Helmert operations chosen per area; BETA2007 grid not installed).")
out.append("    const PROJ_DEFAULT: &[(u32, &[([f64; 2], [f64; 2])])] = &[")
for code, pts in P.items():
    t = pyproj.Transformer.from_crs(4326, code, always_xy=True)
    out.append(f"        ({code}, &[")
    for lo,la in pts:
        x,y=t.transform(lo,la)
        out.append(f"            ([{lo!r}, {la!r}], [{x:.4f}, {y:.4f}]),")
    out.append("        ]),")
out.append("    ];")
out.append("    /// The same points through PROJ with the engine's `+towgs84` parameters (tests the math itself).")
out.append("    const PROJ_SAME_HELMERT: &[(u32, &[([f64; 2], [f64; 2])])] = &[")
for code, s in TOWGS.items():
    t = pyproj.Transformer.from_crs(4326, pyproj.CRS.from_proj4(s), always_xy=True)
    out.append(f"        ({code}, &[")
    for lo,la in P[code]:
        x,y=t.transform(lo,la)
        out.append(f"            ([{lo!r}, {la!r}], [{x:.4f}, {y:.4f}]),")
    out.append("        ]),")
out.append("    ];")
print("\n".join(out))
