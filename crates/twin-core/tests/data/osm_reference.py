"""Reference figures for the OSM importer tests (crates/twin-core/src/import/osm.rs).

Independent re-implementation of the same rules with pyosmium + pyproj.
Usage: python3 osm_reference.py FILE EPSG   (pip install osmium pyproj; reads .pbf, .osm
and .osm.gz).
"""
import osmium, sys, math, pyproj
SKIP={'proposed','construction','platform','raceway','bus_stop','elevator'}
CLS={'motorway','trunk','primary','secondary','tertiary','unclassified','road','residential','service','living_street','track','footway','path','cycleway','pedestrian','steps','bridleway','corridor','trail'}
class H(osmium.SimpleHandler):
    def __init__(s):
        super().__init__(); s.nodes={}; s.ways=[]
    def node(s,n): s.nodes[n.id]=(n.location.lon, n.location.lat)
    def way(s,w):
        if 'highway' in w.tags:
            s.ways.append((w.id, [r.ref for r in w.nodes], dict(w.tags)))
f, epsg = sys.argv[1], int(sys.argv[2])
h=H(); h.apply_file(f)
t=pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
kept=0; pieces=[]; missing=0
for wid, refs, tags in sorted(h.ways):
    hw=tags['highway']; base=hw[:-5] if hw.endswith('_link') else hw
    if hw in SKIP or base not in CLS or tags.get('area')=='yes': continue
    run=[]; n0=len(pieces)
    for r in refs:
        if r in h.nodes: run.append(r)
        else:
            missing+=1
            if len(run)>=2: pieces.append((wid,tags,run))
            run=[]
    if len(run)>=2: pieces.append((wid,tags,run))
    if len(pieces)>n0: kept+=1
from collections import Counter
uses=Counter(); ends=set()
for _,_,p in pieces:
    uses.update(p); ends.add(p[0]); ends.add(p[-1])
graph={n for n,c in uses.items() if c>1}|ends
xy={n: t.transform(*h.nodes[n]) for n in uses}
links=0; length=0.0; oneway=0; nodes=set()
for wid,tags,p in pieces:
    hw=tags['highway']; ow=tags.get('oneway')
    if ow in('yes','true','1','-1','reverse'): d=1
    elif ow in('no','false','0'): d=2
    elif tags.get('junction') in('roundabout','circular') or hw in('motorway','motorway_link'): d=1
    else: d=2
    start=0
    for k in range(1,len(p)):
        if p[k] in graph or k==len(p)-1:
            seg=p[start:k+1]; start=k
            L=sum(math.dist(xy[a],xy[b]) for a,b in zip(seg,seg[1:]))
            links+=d; length+=d*L; oneway+= (d==1); nodes.add(seg[0]); nodes.add(seg[-1])
print(f"{f}: highway_ways {len(h.ways)} kept {kept} missing_refs {missing} links {links} nodes {len(nodes)} oneway_segments {oneway} total_km {length/1000:.4f}")
xs=[xy[n][0] for n in nodes]; ys=[xy[n][1] for n in nodes]
print(' bbox', min(xs),max(xs),min(ys),max(ys))
