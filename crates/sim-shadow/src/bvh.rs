//! A bounding volume hierarchy over building triangles for occlusion (shadow) rays and
//! picking.
//!
//! # Layout
//! - Triangles are kept in f32 coordinates *local to an origin* that the caller gives in f64
//!   world coordinates (projected metres reach 1e5..6e6, where f32 has decimetre steps; local
//!   coordinates within a few km keep sub-millimetre steps). Ray origins are passed in the
//!   same local frame: `world − origin`.
//! - The tree is a 4-wide BVH (BVH4): every inner node holds the boxes of up to four children
//!   as structure-of-arrays `[f32; 4]` lanes, so one slab test covers four boxes in a few SIMD
//!   instructions (SSE intrinsics on x86_64, where SSE is part of the baseline, portable lane
//!   loops elsewhere; see `lanes` for the measurements that justify its `unsafe`, the only
//!   `unsafe` of the crate's BVH). Nodes are 128 bytes, aligned to 64, stored in depth-first
//!   order in one `Vec`, with the child visiting order precomputed for each of the 8
//!   direction octants.
//! - Leaves hold up to [`MAX_LEAF`] triangles as packets of four (`Tri4`, vertex coordinates
//!   SoA), tested four at a time; unused lanes hold NaN and can never report a hit.
//!
//! # Build
//! A top-down binary build with a binned surface-area heuristic (up to [`BINS`] bins per axis,
//! fewer for small nodes, all three axes binned in one pass; cost counted in packets of four,
//! as the leaves test them), then collapsed into
//! the 4-wide tree by repeatedly opening the child with the largest surface area. Subtrees of
//! large nodes are built in parallel with `rayon::join`; every step depends only on its own
//! input slice, so the tree is bit-identical for any thread count. Below depth
//! [`SAH_DEPTH_LIMIT`] nodes are split at the object median, which bounds the depth and so
//! the fixed traversal stack.
//!
//! # Robustness
//! - Ray–triangle: the watertight test of Woop, Benthin and Wald (JCGT 2013): a shear that
//!   maps the ray to the +z axis, 2D edge functions, and a double-precision recomputation
//!   when an edge function is exactly zero. Rays through shared edges and vertices of a
//!   closed mesh hit at least one triangle. Both sides of a triangle are hit (no culling).
//! - Ray–box: slabs with the exact inverse direction (±∞ for a zero component); the
//!   `0 × ∞ = NaN` of a ray lying in a slab's boundary plane is ignored by the operand order
//!   of the min/max chains (the slab counts as entered), and far distances use the inverse
//!   scaled by 1 + 2γ₄ (after Ize 2013 and PBRT) so that rounding never culls a box the ray
//!   touches.
//! - Degenerate (zero area in f32 local coordinates), non-finite or out-of-range triangles are
//!   skipped and counted ([`Bvh::skipped_triangles`]); rays with non-finite data never hit.
//!
//! # Queries
//! [`Bvh::occluded`] (any hit, early exit), [`Bvh::closest_hit`], and the hot path
//! [`Bvh::occluded_many`]: many origins with one shared direction (the sun), where the
//! inverse direction, the octant's child order and the shear constants are computed once,
//! and rays are traversed in masked packets of 32 (consecutive facade points follow nearly
//! the same path, so each node is fetched and decided once for all of them; every ray still
//! meets exactly the boxes and triangles of its own traversal, with the same arithmetic, so
//! the answers equal [`Bvh::occluded`]'s bit for bit). Rays that come in spatial order (as
//! [`crate::sample`] produces them) are fastest. No query allocates; traversal uses a
//! fixed-size stack on the call stack.
//!
//! On the Den Haag tile (35,588 triangles, sun rays from 1 m facade samples) the packet path
//! casts about 10–11 million rays per second on one core of the development machine (thread
//! CPU time, 90–100 ns per ray), about 2× the single-ray loop (`benches/shadow_rays.rs`).

use rayon::prelude::*;

/// Bins per axis of the SAH build (for nodes of 64 triangles and more; at least 8).
pub const BINS: usize = 32;
/// Most triangles in one leaf (one packet of four).
pub const MAX_LEAF: usize = 4;
/// Binary-tree depth below which the SAH chooses splits; deeper nodes are split at the
/// object median (at most 28 more levels for up to [`MAX_TRIANGLES`]).
pub const SAH_DEPTH_LIMIT: usize = 40;
/// Most triangles a tree holds (leaf references have 28 bits of packet index, and a leaf
/// may use a packet for a single triangle).
pub const MAX_TRIANGLES: usize = 1 << 28;

/// Traversal stack entries (a power of two): a BVH4 of depth D needs at most 3·D + 1, and
/// D is at most `SAH_DEPTH_LIMIT + 28 + 1` (see [`SAH_DEPTH_LIMIT`]).
const STACK: usize = 256;
const _: () = assert!(STACK.is_power_of_two() && 3 * (SAH_DEPTH_LIMIT + 29) + 4 <= STACK);
/// SAH cost of a traversal step relative to one packet (four triangle tests).
const COST_TRAVERSAL: f32 = 0.3;
/// SAH cost of one packet test.
const COST_PACKET: f32 = 1.0;
/// Rays per packet of [`Bvh::occluded_many`] (bits of a `u32` mask).
const PACKET: usize = 32;
/// Nodes with more primitives than this build their two subtrees in parallel.
const PAR_THRESHOLD: usize = 4096;

/// Reference bit of a leaf; bits 0..28 index the first packet, bits 28..31 hold count − 1.
const LEAF_BIT: u32 = 1 << 31;
const LEAF_INDEX_MASK: u32 = (1 << 28) - 1;
/// An unused child lane (its box is empty, so it is never entered).
const EMPTY_REF: u32 = u32::MAX;
/// Lane value of a packet lane without a triangle.
const NO_TRIANGLE: u32 = u32::MAX;

/// 1 + 2γ₄ for f32 (γₙ = nε/(1 − nε), ε = 2⁻²⁴), rounded up: scales the inverse direction
/// used for far slab planes, so that the far distance is never underestimated (PBRT's
/// 1 + 2γ₃ for subtraction, inverse and product, plus one rounding of the scaled inverse).
const FAR_SCALE: f32 =
    1.0 + 2.0 * (4.0 * f32::EPSILON * 0.5) / (1.0 - 4.0 * f32::EPSILON * 0.5) + f32::EPSILON;

/// An axis-aligned box in f32 local coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Aabb {
    min: [f32; 3],
    max: [f32; 3],
}

impl Aabb {
    const EMPTY: Aabb = Aabb {
        min: [f32::INFINITY; 3],
        max: [f32::NEG_INFINITY; 3],
    };
    // Build data is finite, so plain compare-and-select (one instruction each) replaces
    // the NaN-aware `f32::min` / `f32::max`.
    #[inline]
    fn grow(&mut self, p: [f32; 3]) {
        for (a, v) in p.into_iter().enumerate() {
            self.min[a] = if v < self.min[a] { v } else { self.min[a] };
            self.max[a] = if v > self.max[a] { v } else { self.max[a] };
        }
    }
    #[inline]
    fn union(&self, o: &Aabb) -> Aabb {
        let mut r = *self;
        for a in 0..3 {
            r.min[a] = if o.min[a] < r.min[a] {
                o.min[a]
            } else {
                r.min[a]
            };
            r.max[a] = if o.max[a] > r.max[a] {
                o.max[a]
            } else {
                r.max[a]
            };
        }
        r
    }
    /// Half the surface area (the SAH only needs ratios); 0 for an empty box.
    #[inline]
    fn half_area(&self) -> f32 {
        let d = [
            self.max[0] - self.min[0],
            self.max[1] - self.min[1],
            self.max[2] - self.min[2],
        ];
        if d[0] < 0.0 || d[1] < 0.0 || d[2] < 0.0 {
            return 0.0;
        }
        d[0] * d[1] + d[1] * d[2] + d[2] * d[0]
    }
}

/// A triangle during the build: box, centroid and index into the kept triangles.
#[derive(Debug, Clone, Copy)]
struct Prim {
    bb: Aabb,
    c: [f32; 3],
    id: u32,
}

/// The binary tree of the build (collapsed into [`Node4`]s afterwards).
enum BTree {
    Leaf {
        bb: Aabb,
        start: usize,
        count: usize,
    },
    Inner {
        bb: Aabb,
        axis: u8,
        kids: Box<[BTree; 2]>,
    },
}

impl BTree {
    fn bb(&self) -> &Aabb {
        match self {
            BTree::Leaf { bb, .. } | BTree::Inner { bb, .. } => bb,
        }
    }
}

/// A 4-wide inner node: child boxes as SoA lanes, child references, and the child visiting
/// order for each of the 8 ray direction octants.
#[repr(C, align(64))]
#[derive(Debug, Clone, Copy)]
struct Node4 {
    /// `[min_x, max_x, min_y, max_y, min_z, max_z]`, one lane per child; unused lanes are
    /// empty boxes (min +∞, max −∞).
    b: [[f32; 4]; 6],
    /// Inner node index, leaf reference (`LEAF_BIT`), or `EMPTY_REF`.
    child: [u32; 4],
    /// Per octant (bit a set: direction negative along axis a), the lanes in visiting order,
    /// 2 bits each, first lane in the low bits.
    order: [u8; 8],
    _pad: [u32; 2],
}

/// Four triangles, vertex coordinates as SoA lanes: `v[vertex][axis][lane]`.
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy)]
struct Tri4 {
    v: [[[f32; 4]; 3]; 3],
}

/// BVH over triangles, stored as flat Vecs (nodes, triangle data in leaf order).
#[derive(Clone)]
pub struct Bvh {
    nodes: Vec<Node4>,
    packets: Vec<Tri4>,
    /// Input triangle index per packet lane (`NO_TRIANGLE` for unused lanes).
    tri_index: Vec<u32>,
    /// Payload per packet lane.
    tri_payload: Vec<u32>,
    /// Root reference (inner node, leaf, or `EMPTY_REF` for an empty tree).
    root: u32,
    origin: [f64; 3],
    bounds: Aabb,
    triangle_count: usize,
    skipped: usize,
    depth: usize,
}

impl std::fmt::Debug for Bvh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bvh")
            .field("origin", &self.origin)
            .field("triangles", &self.triangle_count)
            .field("skipped", &self.skipped)
            .field("nodes", &self.nodes.len())
            .field("packets", &self.packets.len())
            .field("depth", &self.depth)
            .finish()
    }
}

/// Per-direction constants shared by all rays of one direction.
#[derive(Debug, Clone, Copy)]
struct DirPre {
    /// Index into `Node4::b` of the near and far plane per axis.
    near: [usize; 3],
    far: [usize; 3],
    octant: usize,
    /// Woop shear: axis permutation and constants.
    kx: usize,
    ky: usize,
    kz: usize,
    sx4: F4,
    sy4: F4,
    sz4: F4,
    /// 1/d per axis (±∞ for a zero component), for near planes.
    inv4: [F4; 3],
    /// The same scaled by `FAR_SCALE`, for far planes.
    inv_far4: [F4; 3],
}

impl DirPre {
    /// `None` when the direction is not finite or is the zero vector.
    fn new(d: [f32; 3]) -> Option<DirPre> {
        if !d.iter().all(|v| v.is_finite()) || d.iter().all(|&v| v == 0.0) {
            return None;
        }
        let mut inv = [0.0; 3];
        let mut near = [0; 3];
        let mut far = [0; 3];
        let mut octant = 0;
        for a in 0..3 {
            inv[a] = 1.0 / d[a];
            let flip = usize::from(inv[a] < 0.0);
            near[a] = 2 * a + flip;
            far[a] = 2 * a + 1 - flip;
            if d[a] < 0.0 {
                octant |= 1 << a;
            }
        }
        // Woop et al.: z' along the largest component, swap x', y' to keep the winding.
        let ad = d.map(f32::abs);
        let kz = if ad[0] > ad[1] {
            if ad[0] > ad[2] { 0 } else { 2 }
        } else if ad[1] > ad[2] {
            1
        } else {
            2
        };
        let mut kx = (kz + 1) % 3;
        let mut ky = (kx + 1) % 3;
        if d[kz] < 0.0 {
            std::mem::swap(&mut kx, &mut ky);
        }
        let sz = 1.0 / d[kz];
        Some(DirPre {
            near,
            far,
            octant,
            kx,
            ky,
            kz,
            sx4: F4::splat(d[kx] * sz),
            sy4: F4::splat(d[ky] * sz),
            sz4: F4::splat(sz),
            inv4: inv.map(F4::splat),
            inv_far4: inv.map(|v| F4::splat(v * FAR_SCALE)),
        })
    }
}

use lanes::{F4, M4, U4};

/// Four f32 lanes, lane masks and u32 lanes for the slab and triangle kernels.
///
/// On x86_64 they wrap SSE registers (`std::arch` intrinsics; SSE and SSE2 are part of the
/// x86_64 baseline, so they are always available); elsewhere they are plain loops over
/// 16-byte aligned `[T; 4]` (`portable`). Why intrinsics, measured on the Den Haag benchmark
/// (`benches/shadow_rays.rs`, cachegrind for instruction and simulated mispredict counts):
/// - [`Bvh::occluded_many`] (packets): 911 vs 917 instructions per ray, within about 4 % in
///   time: LLVM vectorises the portable loops as well, since the kernels load a node's
///   planes and a leaf's vertices once ([`planes`], [`permuted`]).
/// - [`Bvh::occluded`] and [`Bvh::closest_hit`] (one ray, branching on each child's hit
///   bit): 1,429 vs 1,905 instructions and 8.8 vs 14.8 mispredicts per ray, about 175 vs
///   450 ns per ray: the portable masks become scalar compare-and-branch chains there.
///
/// The `unsafe` blocks are in `sse` only; a unit test checks that both implementations give
/// the same results. `max` and `min` follow the `maxps`/`minps` rule: the *second* operand
/// when either is NaN; the slab test relies on it (see [`slab4_mask`]).
mod lanes {
    #[cfg(not(target_arch = "x86_64"))]
    pub(super) use portable::{F4, M4, U4};
    #[cfg(target_arch = "x86_64")]
    pub(super) use sse::{F4, M4, U4};

    #[cfg(target_arch = "x86_64")]
    #[allow(unused_unsafe)] // arithmetic intrinsics are safe to call from Rust 1.87 on
    pub(super) mod sse {
        use std::arch::x86_64::*;

        #[derive(Debug, Clone, Copy)]
        pub struct F4(__m128);
        #[derive(Debug, Clone, Copy)]
        pub struct M4(__m128);
        /// Four u32 lanes.
        #[derive(Debug, Clone, Copy)]
        pub struct U4(__m128i);

        impl U4 {
            #[inline(always)]
            pub fn zero() -> U4 {
                U4(unsafe { _mm_setzero_si128() })
            }
            #[inline(always)]
            pub fn or(self, o: U4) -> U4 {
                U4(unsafe { _mm_or_si128(self.0, o.0) })
            }
            #[inline(always)]
            pub fn to_array(self) -> [u32; 4] {
                let mut a = [0u32; 4];
                unsafe { _mm_storeu_si128(a.as_mut_ptr().cast(), self.0) };
                a
            }
        }

        // SAFETY (every `unsafe` block in this module): the intrinsics need only SSE/SSE2,
        // which every x86_64 CPU has (they are enabled for the target by default); the two
        // memory intrinsics read or write exactly the 16 bytes of a `&[f32; 4]` /
        // `&mut [f32; 4]` and do not require alignment.
        impl F4 {
            #[inline(always)]
            pub fn load(a: &[f32; 4]) -> F4 {
                F4(unsafe { _mm_loadu_ps(a.as_ptr()) })
            }
            #[inline(always)]
            pub fn to_array(self) -> [f32; 4] {
                let mut a = [0.0f32; 4];
                unsafe { _mm_storeu_ps(a.as_mut_ptr(), self.0) };
                a
            }
            #[inline(always)]
            pub fn splat(x: f32) -> F4 {
                F4(unsafe { _mm_set1_ps(x) })
            }
            #[inline(always)]
            pub fn add(self, o: F4) -> F4 {
                F4(unsafe { _mm_add_ps(self.0, o.0) })
            }
            #[inline(always)]
            pub fn sub(self, o: F4) -> F4 {
                F4(unsafe { _mm_sub_ps(self.0, o.0) })
            }
            #[inline(always)]
            pub fn mul(self, o: F4) -> F4 {
                F4(unsafe { _mm_mul_ps(self.0, o.0) })
            }
            #[inline(always)]
            pub fn div(self, o: F4) -> F4 {
                F4(unsafe { _mm_div_ps(self.0, o.0) })
            }
            /// `self > o ? self : o` per lane (so `o` when either is NaN).
            #[inline(always)]
            pub fn max(self, o: F4) -> F4 {
                F4(unsafe { _mm_max_ps(self.0, o.0) })
            }
            /// `self < o ? self : o` per lane (so `o` when either is NaN).
            #[inline(always)]
            pub fn min(self, o: F4) -> F4 {
                F4(unsafe { _mm_min_ps(self.0, o.0) })
            }
            #[inline(always)]
            pub fn lt(self, o: F4) -> M4 {
                M4(unsafe { _mm_cmplt_ps(self.0, o.0) })
            }
            #[inline(always)]
            pub fn le(self, o: F4) -> M4 {
                M4(unsafe { _mm_cmple_ps(self.0, o.0) })
            }
            #[inline(always)]
            pub fn eq(self, o: F4) -> M4 {
                M4(unsafe { _mm_cmpeq_ps(self.0, o.0) })
            }
            /// Flip the sign of the lanes where `s` is negative (sign bit set).
            #[inline(always)]
            pub fn xor_sign(self, s: F4) -> F4 {
                F4(unsafe { _mm_xor_ps(self.0, _mm_and_ps(s.0, _mm_set1_ps(-0.0))) })
            }
            #[inline(always)]
            pub fn abs(self) -> F4 {
                F4(unsafe { _mm_andnot_ps(_mm_set1_ps(-0.0), self.0) })
            }
        }
        impl M4 {
            #[inline(always)]
            pub fn and(self, o: M4) -> M4 {
                M4(unsafe { _mm_and_ps(self.0, o.0) })
            }
            #[inline(always)]
            pub fn or(self, o: M4) -> M4 {
                M4(unsafe { _mm_or_ps(self.0, o.0) })
            }
            /// `!self & o`.
            #[inline(always)]
            pub fn andnot(self, o: M4) -> M4 {
                M4(unsafe { _mm_andnot_ps(self.0, o.0) })
            }
            /// Bit i set when lane i is set.
            #[inline(always)]
            pub fn bits(self) -> u32 {
                (unsafe { _mm_movemask_ps(self.0) }) as u32
            }
            /// Whether any lane is set.
            #[inline(always)]
            pub fn any(self) -> bool {
                self.bits() != 0
            }
            /// `bit` in the lanes that are set, 0 elsewhere.
            #[inline(always)]
            pub fn select(self, bit: u32) -> U4 {
                U4(unsafe { _mm_and_si128(_mm_castps_si128(self.0), _mm_set1_epi32(bit as i32)) })
            }
        }
    }

    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    pub(super) mod portable {
        // Aligned like an SSE register, so that arrays of lanes never straddle cache lines.
        #[derive(Debug, Clone, Copy)]
        #[repr(C, align(16))]
        pub struct F4([f32; 4]);
        #[derive(Debug, Clone, Copy)]
        #[repr(C, align(16))]
        pub struct M4([u32; 4]);
        #[derive(Debug, Clone, Copy)]
        #[repr(C, align(16))]
        pub struct U4([u32; 4]);

        impl U4 {
            #[inline(always)]
            pub fn zero() -> U4 {
                U4([0; 4])
            }
            #[inline(always)]
            pub fn or(self, o: U4) -> U4 {
                let (a, b) = (self.0, o.0);
                U4([a[0] | b[0], a[1] | b[1], a[2] | b[2], a[3] | b[3]])
            }
            #[inline(always)]
            pub fn to_array(self) -> [u32; 4] {
                self.0
            }
        }

        macro_rules! each {
            ($f:expr) => {{
                let f = $f;
                [f(0), f(1), f(2), f(3)]
            }};
        }

        impl F4 {
            #[inline(always)]
            pub fn load(a: &[f32; 4]) -> F4 {
                F4(*a)
            }
            #[inline(always)]
            pub fn to_array(self) -> [f32; 4] {
                self.0
            }
            #[inline(always)]
            pub fn splat(x: f32) -> F4 {
                F4([x; 4])
            }
            #[inline(always)]
            pub fn add(self, o: F4) -> F4 {
                F4(each!(|i: usize| self.0[i] + o.0[i]))
            }
            #[inline(always)]
            pub fn sub(self, o: F4) -> F4 {
                F4(each!(|i: usize| self.0[i] - o.0[i]))
            }
            #[inline(always)]
            pub fn mul(self, o: F4) -> F4 {
                F4(each!(|i: usize| self.0[i] * o.0[i]))
            }
            #[inline(always)]
            pub fn div(self, o: F4) -> F4 {
                F4(each!(|i: usize| self.0[i] / o.0[i]))
            }
            #[inline(always)]
            pub fn max(self, o: F4) -> F4 {
                F4(each!(|i: usize| if self.0[i] > o.0[i] {
                    self.0[i]
                } else {
                    o.0[i]
                }))
            }
            #[inline(always)]
            pub fn min(self, o: F4) -> F4 {
                F4(each!(|i: usize| if self.0[i] < o.0[i] {
                    self.0[i]
                } else {
                    o.0[i]
                }))
            }
            #[inline(always)]
            pub fn lt(self, o: F4) -> M4 {
                M4(each!(|i: usize| if self.0[i] < o.0[i] {
                    u32::MAX
                } else {
                    0
                }))
            }
            #[inline(always)]
            pub fn le(self, o: F4) -> M4 {
                M4(each!(|i: usize| if self.0[i] <= o.0[i] {
                    u32::MAX
                } else {
                    0
                }))
            }
            #[inline(always)]
            pub fn eq(self, o: F4) -> M4 {
                M4(each!(|i: usize| if self.0[i] == o.0[i] {
                    u32::MAX
                } else {
                    0
                }))
            }
            #[inline(always)]
            pub fn xor_sign(self, s: F4) -> F4 {
                F4(each!(|i: usize| f32::from_bits(
                    self.0[i].to_bits() ^ (s.0[i].to_bits() & 0x8000_0000)
                )))
            }
            #[inline(always)]
            pub fn abs(self) -> F4 {
                F4(each!(|i: usize| f32::from_bits(
                    self.0[i].to_bits() & 0x7fff_ffff
                )))
            }
        }
        impl M4 {
            #[inline(always)]
            pub fn and(self, o: M4) -> M4 {
                M4(each!(|i: usize| self.0[i] & o.0[i]))
            }
            #[inline(always)]
            pub fn or(self, o: M4) -> M4 {
                M4(each!(|i: usize| self.0[i] | o.0[i]))
            }
            #[inline(always)]
            pub fn andnot(self, o: M4) -> M4 {
                M4(each!(|i: usize| !self.0[i] & o.0[i]))
            }
            /// Whether any lane is set.
            #[inline(always)]
            pub fn any(self) -> bool {
                (self.0[0] | self.0[1] | self.0[2] | self.0[3]) != 0
            }
            #[inline(always)]
            pub fn bits(self) -> u32 {
                (self.0[0] >> 31)
                    | (self.0[1] >> 31) << 1
                    | (self.0[2] >> 31) << 2
                    | (self.0[3] >> 31) << 3
            }
            #[inline(always)]
            pub fn select(self, bit: u32) -> U4 {
                U4(each!(|i: usize| self.0[i] & bit))
            }
        }
    }
}

/// Slab test of a ray against the four child boxes of a node: bit i of the result is set
/// when the ray enters box i within `[t_min, t_max]`; `tn` receives the entry distances.
#[inline(always)]
fn slab4(n: &Node4, r: &DirPre, o: &[F4; 3], t_min: F4, t_max: F4, tn: &mut F4) -> u32 {
    slab4_mask(&planes(n, r), r, o, t_min, t_max, tn).bits()
}

/// A node's child boxes as the planes a direction meets first and last:
/// `[near x, near y, near z, far x, far y, far z]`, one lane per child. Loaded once per node
/// for all rays of a packet.
#[inline(always)]
fn planes(n: &Node4, r: &DirPre) -> [F4; 6] {
    let idx = [
        r.near[0], r.near[1], r.near[2], r.far[0], r.far[1], r.far[2],
    ];
    idx.map(|i| F4::load(&n.b[i]))
}

/// [`slab4`] on prepared [`planes`], as a lane mask.
#[inline(always)]
fn slab4_mask(p: &[F4; 6], r: &DirPre, o: &[F4; 3], t_min: F4, t_max: F4, tn: &mut F4) -> M4 {
    let (inv, invf) = (&r.inv4, &r.inv_far4);
    let nx = p[0].sub(o[0]).mul(inv[0]);
    let ny = p[1].sub(o[1]).mul(inv[1]);
    let nz = p[2].sub(o[2]).mul(inv[2]);
    let fx = p[3].sub(o[0]).mul(invf[0]);
    let fy = p[4].sub(o[1]).mul(invf[1]);
    let fz = p[5].sub(o[2]).mul(invf[2]);
    // `a.max(b)` / `a.min(b)` return `b` when `a` is NaN: a plane distance is NaN only for a
    // ray in that slab's boundary plane (0 × ∞), which must not cull the box, so plane
    // distances come first and the interval ends last.
    let near = nx.max(ny.max(nz.max(t_min)));
    let far = fx.min(fy.min(fz.min(t_max)));
    *tn = near;
    near.le(far)
}

/// Triangle vertices relative to a ray origin after the shear that maps the ray direction
/// to +z': `x[v]`, `y[v]`, `z[v]` for vertex `v` (z already scaled by `sz`).
struct Sheared {
    x: [F4; 3],
    y: [F4; 3],
    z: [F4; 3],
}

impl Sheared {
    /// Shear vertex `i`, given by its coordinates along the permuted axes `(kx, ky, kz)` of
    /// [`DirPre`], relative to the origin `o` (same axes), lane by lane: lanes are the
    /// triangles of a packet or the rays of a group, with the same arithmetic.
    #[inline(always)]
    fn set(&mut self, i: usize, v: [F4; 3], o: [F4; 3], r: &DirPre) {
        let z = v[2].sub(o[2]);
        self.x[i] = v[0].sub(o[0]).sub(r.sx4.mul(z));
        self.y[i] = v[1].sub(o[1]).sub(r.sy4.mul(z));
        self.z[i] = r.sz4.mul(z);
    }
    #[inline(always)]
    fn zero() -> Sheared {
        Sheared {
            x: [F4::splat(0.0); 3],
            y: [F4::splat(0.0); 3],
            z: [F4::splat(0.0); 3],
        }
    }

    /// Watertight test (Woop et al. 2013) of the sheared triangle against the ray along
    /// +z': lane mask of hits with t in (t_min, t_max); writes t of the lanes when asked and
    /// any lane hit.
    #[inline(always)]
    fn hits(&self, t_min: F4, t_max: F4, t_out: Option<&mut F4>) -> u32 {
        let [ax, bx, cx] = self.x;
        let [ay, by, cy] = self.y;
        let [az, bz, cz] = self.z;
        let mut u = cx.mul(by).sub(cy.mul(bx));
        let mut v = ax.mul(cy).sub(ay.mul(cx));
        let mut w = bx.mul(ay).sub(by.mul(ax));
        let zero = F4::splat(0.0);
        // Some edge function exactly 0 (one comparison instead of three: `min(|u|, |v|, |w|)`
        // is 0 exactly when one of them is, for the finite lanes that can hit).
        let on_edge = u.abs().min(v.abs()).min(w.abs()).eq(zero);
        if on_edge.any() {
            edges_f64(
                on_edge.bits(),
                [ax, ay, bx, by, cx, cy],
                &mut u,
                &mut v,
                &mut w,
            );
        }
        let neg = u.lt(zero).or(v.lt(zero)).or(w.lt(zero));
        let pos = zero.lt(u).or(zero.lt(v)).or(zero.lt(w));
        let outside = neg.and(pos);
        let det = u.add(v).add(w);
        let t = u.mul(az).add(v.mul(bz)).add(w.mul(cz));
        // Compare t/det with the interval without dividing: flip signs by det's sign.
        let ts = t.xor_sign(det);
        let ds = det.abs();
        // NaN lanes (unused) fail every comparison below.
        let hit = outside
            .andnot(zero.lt(ds))
            .and(t_min.mul(ds).lt(ts))
            .and(ts.lt(t_max.mul(ds)));
        let m = hit.bits();
        match t_out {
            Some(t_out) if m != 0 => *t_out = t.div(det),
            _ => {}
        }
        m
    }
}

/// Watertight ray–triangle test of one ray against a packet of four triangles. Returns the
/// lane mask of hits with t in (t_min, t_max) and, per lane, t (valid for hit lanes only).
#[inline(always)]
fn tri4(p: &Tri4, r: &DirPre, o: &[F4; 3], t_min: F4, t_max: F4, t_out: &mut F4) -> u32 {
    let op = [o[r.kx], o[r.ky], o[r.kz]];
    tri4_prepared(&permuted(p, r), r, op, t_min, t_max, Some(t_out))
}

/// A packet's vertex coordinates along the permuted axes `(kx, ky, kz)` of a direction:
/// `[vertex][axis']`. Loaded once per leaf for all rays of a packet.
#[inline(always)]
fn permuted(p: &Tri4, r: &DirPre) -> [[F4; 3]; 3] {
    p.v.each_ref()
        .map(|v| [F4::load(&v[r.kx]), F4::load(&v[r.ky]), F4::load(&v[r.kz])])
}

/// [`tri4`] on prepared [`permuted`] vertices, with the origin `op` along the permuted axes.
#[inline(always)]
fn tri4_prepared(
    v: &[[F4; 3]; 3],
    r: &DirPre,
    op: [F4; 3],
    t_min: F4,
    t_max: F4,
    t_out: Option<&mut F4>,
) -> u32 {
    let mut s = Sheared::zero();
    for (i, vi) in v.iter().enumerate() {
        s.set(i, *vi, op, r);
    }
    s.hits(t_min, t_max, t_out)
}

/// The edge functions of the lanes in `lanes` recomputed in f64, where the products of f32
/// values are exact (Woop et al. 2013, section 3): only rays exactly through an edge in f32.
#[cold]
#[inline(never)]
fn edges_f64(lanes: u32, s: [F4; 6], u: &mut F4, v: &mut F4, w: &mut F4) {
    let s = s.map(F4::to_array);
    let (mut uu, mut vv, mut ww) = (u.to_array(), v.to_array(), w.to_array());
    for i in 0..4 {
        if lanes & (1 << i) != 0 {
            let [ax, ay, bx, by, cx, cy] = s.map(|x| f64::from(x[i]));
            uu[i] = (cx * by - cy * bx) as f32;
            vv[i] = (ax * cy - ay * cx) as f32;
            ww[i] = (bx * ay - by * ax) as f32;
        }
    }
    *u = F4::load(&uu);
    *v = F4::load(&vv);
    *w = F4::load(&ww);
}

#[inline]
fn finite3(v: [f32; 3]) -> bool {
    v[0].is_finite() && v[1].is_finite() && v[2].is_finite()
}

impl Bvh {
    /// Build over triangles given in f64 world coordinates; `origin` is subtracted (store f32
    /// local coordinates). Degenerate or non-finite triangles are skipped. `payload[k]` (e.g.
    /// a building index) is kept per input triangle.
    ///
    /// Skipped (and counted in [`Bvh::skipped_triangles`]): triangles with a vertex index out
    /// of range, a non-finite coordinate (world or local f32), or zero area once rounded to
    /// f32 local coordinates; triangles beyond [`MAX_TRIANGLES`]. A `payload` shorter than
    /// `triangles` gives `u32::MAX` to the triangles without one. A non-finite `origin` is
    /// replaced by 0.
    pub fn build(
        positions: &[[f64; 3]],
        triangles: &[[u32; 3]],
        payload: &[u32],
        origin: [f64; 3],
    ) -> Bvh {
        let origin = origin.map(|v| if v.is_finite() { v } else { 0.0 });
        let local = |i: u32| -> Option<[f32; 3]> {
            let p = positions.get(i as usize)?;
            let l = [
                (p[0] - origin[0]) as f32,
                (p[1] - origin[1]) as f32,
                (p[2] - origin[2]) as f32,
            ];
            finite3(l).then_some(l)
        };
        // Kept triangles: local vertices, input index, payload.
        let mut verts: Vec<[[f32; 3]; 3]> = Vec::with_capacity(triangles.len());
        let mut ids: Vec<u32> = Vec::with_capacity(triangles.len());
        let mut skipped = 0usize;
        for (k, t) in triangles.iter().enumerate() {
            if verts.len() >= MAX_TRIANGLES {
                skipped += triangles.len() - k;
                break;
            }
            let (Some(a), Some(b), Some(c)) = (local(t[0]), local(t[1]), local(t[2])) else {
                skipped += 1;
                continue;
            };
            if triangle_area2_f64(a, b, c) > 0.0 {
                verts.push([a, b, c]);
                ids.push(k as u32);
            } else {
                skipped += 1;
            }
        }
        let mut prims: Vec<Prim> = verts
            .iter()
            .zip(0u32..)
            .map(|(v, id)| {
                let mut bb = Aabb::EMPTY;
                for p in v {
                    bb.grow(*p);
                }
                let c = [
                    0.5 * (bb.min[0] + bb.max[0]),
                    0.5 * (bb.min[1] + bb.max[1]),
                    0.5 * (bb.min[2] + bb.max[2]),
                ];
                Prim { bb, c, id }
            })
            .collect();
        let mut bvh = Bvh {
            nodes: Vec::new(),
            packets: Vec::new(),
            tri_index: Vec::new(),
            tri_payload: Vec::new(),
            root: EMPTY_REF,
            origin,
            bounds: Aabb::EMPTY,
            triangle_count: prims.len(),
            skipped,
            depth: 0,
        };
        if prims.is_empty() {
            return bvh;
        }
        let tree = build_rec(&mut prims, 0, 0);
        bvh.bounds = *tree.bb();
        let n_leaf_est = prims.len().div_ceil(2);
        bvh.nodes.reserve(n_leaf_est / 2 + 1);
        bvh.packets.reserve(n_leaf_est / 2 + 1);
        let mut ctx = Collapse {
            prims: &prims,
            verts: &verts,
            ids: &ids,
            payload,
            out: &mut bvh,
        };
        let (root, depth) = ctx.emit(&tree, 1);
        bvh.root = root;
        bvh.depth = depth;
        debug_assert!(3 * bvh.depth < STACK, "BVH depth {} too large", bvh.depth);
        bvh
    }

    /// All surfaces of all buildings of a city (payload = building index); origin = centre of
    /// the city's bbox at z 0.
    ///
    /// Triangle indices (as [`Bvh::closest_hit`] returns them) count over the buildings'
    /// `surfaces.triangles` in building order; [`city_triangle_offsets`] maps them back.
    pub fn from_city(city: &twin_core::model::City) -> Bvh {
        let bb = city.bbox();
        let origin = if bb.is_empty() {
            [0.0; 3]
        } else {
            [
                0.5 * (bb.min[0] + bb.max[0]),
                0.5 * (bb.min[1] + bb.max[1]),
                0.0,
            ]
        };
        let nv: usize = city
            .buildings
            .iter()
            .map(|b| b.surfaces.positions.len())
            .sum();
        let nt: usize = city
            .buildings
            .iter()
            .map(|b| b.surfaces.triangles.len())
            .sum();
        let mut positions = Vec::with_capacity(nv);
        let mut triangles = Vec::with_capacity(nt);
        let mut payload = Vec::with_capacity(nt);
        for (bi, b) in city.buildings.iter().enumerate() {
            let m = &b.surfaces;
            let base = positions.len();
            positions.extend_from_slice(&m.positions);
            for t in &m.triangles {
                // An index past this building's vertices would point into another building:
                // make it out of range so that the build skips it.
                let fix = |i: u32| {
                    if (i as usize) < m.positions.len() {
                        u32::try_from(base + i as usize).unwrap_or(u32::MAX)
                    } else {
                        u32::MAX
                    }
                };
                triangles.push([fix(t[0]), fix(t[1]), fix(t[2])]);
                payload.push(u32::try_from(bi).unwrap_or(u32::MAX));
            }
        }
        Bvh::build(&positions, &triangles, &payload, origin)
    }

    /// The origin (f64 world coordinates) subtracted from every coordinate.
    pub fn origin(&self) -> [f64; 3] {
        self.origin
    }
    /// Triangles in the tree (input triangles less the skipped ones).
    pub fn triangle_count(&self) -> usize {
        self.triangle_count
    }
    /// Inner nodes of the 4-wide tree.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
    /// Input triangles left out (degenerate, non-finite, or with an index out of range).
    pub fn skipped_triangles(&self) -> usize {
        self.skipped
    }
    /// Depth of the 4-wide tree (1 for a single leaf or node, 0 when empty).
    pub fn depth(&self) -> usize {
        self.depth
    }
    /// Box of all triangles in local coordinates (`(min, max)`), `None` when empty.
    pub fn bounds(&self) -> Option<([f32; 3], [f32; 3])> {
        (self.root != EMPTY_REF).then_some((self.bounds.min, self.bounds.max))
    }
    /// A world point in this tree's local f32 coordinates.
    pub fn to_local(&self, p: [f64; 3]) -> [f32; 3] {
        [
            (p[0] - self.origin[0]) as f32,
            (p[1] - self.origin[1]) as f32,
            (p[2] - self.origin[2]) as f32,
        ]
    }

    /// Any hit with t in (t_min, t_max) along o + t d (o in local coordinates = world −
    /// origin, d need not be unit). Early exit.
    ///
    /// Non-finite `o` or `d`, a zero `d`, or a NaN interval give `false`.
    pub fn occluded(&self, o: [f32; 3], d: [f32; 3], t_min: f32, t_max: f32) -> bool {
        match DirPre::new(d) {
            Some(r) => self.occluded_pre(&r, o, t_min, t_max, &mut [0; STACK]),
            None => false,
        }
    }

    /// Many rays with one shared direction (the sun): writes `out[k] = occluded(origins[k],
    /// d, t_min, t_max)`; the inverse direction, the octant's child order and the shear of
    /// the triangle test are computed once for all rays. This is the hot path.
    ///
    /// Only `min(origins.len(), out.len())` rays are cast; any further `out` entries are set
    /// to `false`.
    pub fn occluded_many(
        &self,
        origins: &[[f32; 3]],
        d: [f32; 3],
        t_min: f32,
        t_max: f32,
        out: &mut [bool],
    ) {
        let n = origins.len().min(out.len());
        let (head, tail) = out.split_at_mut(n);
        tail.fill(false);
        match DirPre::new(d) {
            Some(r) => {
                let mut stack = [(0u32, 0u32); STACK];
                for (o, res) in origins.chunks(PACKET).zip(head.chunks_mut(PACKET)) {
                    let m = self.occluded_packet(&r, o, t_min, t_max, &mut stack);
                    for (j, x) in res.iter_mut().enumerate() {
                        *x = m & (1 << j) != 0;
                    }
                }
            }
            None => head.fill(false),
        }
    }

    /// [`Bvh::occluded_many`] over the rayon pool, in chunks; the same answers as the serial
    /// call for any thread count.
    pub fn occluded_many_par(
        &self,
        origins: &[[f32; 3]],
        d: [f32; 3],
        t_min: f32,
        t_max: f32,
        out: &mut [bool],
    ) {
        const CHUNK: usize = 1024;
        let n = origins.len().min(out.len());
        let (head, tail) = out.split_at_mut(n);
        tail.fill(false);
        head.par_chunks_mut(CHUNK)
            .zip(origins[..n].par_chunks(CHUNK))
            .for_each(|(o, src)| self.occluded_many(src, d, t_min, t_max, o));
    }

    /// Closest hit: (input triangle index, t, payload) — for picking in the viewer.
    ///
    /// Ties (a ray through a shared edge) go to the triangle found first, which is fixed for
    /// a given tree. Non-finite input gives `None`.
    pub fn closest_hit(
        &self,
        o: [f32; 3],
        d: [f32; 3],
        t_min: f32,
        t_max: f32,
    ) -> Option<(u32, f32, u32)> {
        let r = DirPre::new(d)?;
        if self.root == EMPTY_REF || !finite3(o) || t_min.is_nan() || t_max.is_nan() {
            return None;
        }
        let mut best_t = t_max;
        let mut best: Option<usize> = None;
        let mut stack = [(0u32, 0.0f32); STACK];
        let mut sp = 0usize;
        let mut cur = self.root;
        let o4 = o.map(F4::splat);
        let tmin4 = F4::splat(t_min);
        let mut tn = F4::splat(0.0);
        let mut tt = F4::splat(0.0);
        loop {
            if cur & LEAF_BIT != 0 {
                let first = (cur & LEAF_INDEX_MASK) as usize;
                let count = ((cur >> 28) & 7) as usize + 1;
                for pi in first..first + count {
                    let Some(p) = self.packets.get(pi) else {
                        continue;
                    };
                    let mut m = tri4(p, &r, &o4, tmin4, F4::splat(best_t), &mut tt);
                    let ts = tt.to_array();
                    while m != 0 {
                        let lane = m.trailing_zeros() as usize;
                        m &= m - 1;
                        if ts[lane] < best_t {
                            best_t = ts[lane];
                            best = Some(4 * pi + lane);
                        }
                    }
                }
            } else if let Some(node) = self.nodes.get(cur as usize) {
                let mask = slab4(node, &r, &o4, tmin4, F4::splat(best_t), &mut tn);
                if mask != 0 {
                    let tna = tn.to_array();
                    let ord = node.order[r.octant];
                    for j in (0..4).rev() {
                        let lane = usize::from((ord >> (2 * j)) & 3);
                        if mask & (1 << lane) != 0 && sp < STACK {
                            stack[sp] = (node.child[lane], tna[lane]);
                            sp += 1;
                        }
                    }
                }
            }
            // Pop the next node that may still hold a closer hit.
            loop {
                if sp == 0 {
                    return best.map(|k| (self.tri_index[k], best_t, self.tri_payload[k]));
                }
                sp -= 1;
                let (next, near) = stack[sp];
                if near <= best_t {
                    cur = next;
                    break;
                }
            }
        }
    }

    /// The any-hit traversal with per-direction constants.
    #[inline]
    fn occluded_pre(
        &self,
        r: &DirPre,
        o: [f32; 3],
        t_min: f32,
        t_max: f32,
        stack: &mut [u32; STACK],
    ) -> bool {
        // `!(a <= b)` is also true for NaN.
        if self.root == EMPTY_REF || !finite3(o) || t_min.is_nan() || t_max.is_nan() {
            return false;
        }
        let mut sp = 0usize;
        let mut cur = self.root;
        let o4 = o.map(F4::splat);
        let (tmin4, tmax4) = (F4::splat(t_min), F4::splat(t_max));
        let mut tn = F4::splat(0.0);
        let mut tt = F4::splat(0.0);
        loop {
            if cur & LEAF_BIT != 0 {
                let first = (cur & LEAF_INDEX_MASK) as usize;
                let count = ((cur >> 28) & 7) as usize + 1;
                if let Some(ps) = self.packets.get(first..first + count) {
                    for p in ps {
                        if tri4(p, r, &o4, tmin4, tmax4, &mut tt) != 0 {
                            return true;
                        }
                    }
                }
            } else if let Some(node) = self.nodes.get(cur as usize) {
                let mask = slab4(node, r, &o4, tmin4, tmax4, &mut tn);
                let ord = node.order[r.octant];
                for j in (0..4).rev() {
                    let lane = usize::from((ord >> (2 * j)) & 3);
                    if mask & (1 << lane) != 0 {
                        stack[sp & (STACK - 1)] = node.child[lane];
                        sp += 1;
                    }
                }
            }
            if sp == 0 {
                return false;
            }
            sp -= 1;
            cur = stack[sp & (STACK - 1)];
        }
    }

    /// Any-hit traversal of up to [`PACKET`] rays of one direction together (masked packet
    /// traversal): a node or leaf is fetched once for all rays that reach it, and each ray
    /// is tested only against the boxes and triangles its own traversal would test, with
    /// the same kernels, so the answers are those of [`Bvh::occluded`] bit for bit. Returns
    /// the mask of occluded rays.
    fn occluded_packet(
        &self,
        r: &DirPre,
        origins: &[[f32; 3]],
        t_min: f32,
        t_max: f32,
        stack: &mut [(u32, u32); STACK],
    ) -> u32 {
        let n = origins.len().min(PACKET);
        if self.root == EMPTY_REF || n == 0 || t_min.is_nan() || t_max.is_nan() {
            return 0;
        }
        // Per ray: origin along x, y, z (slabs) and along the permuted axes (triangles).
        let mut o4 = [[F4::splat(0.0); 3]; PACKET];
        let mut op4 = [[F4::splat(0.0); 3]; PACKET];
        let mut active = 0u32;
        for (j, o) in origins[..n].iter().enumerate() {
            if finite3(*o) {
                o4[j] = o.map(F4::splat);
                op4[j] = [o[r.kx], o[r.ky], o[r.kz]].map(F4::splat);
                active |= 1 << j;
            }
        }
        let (tmin4, tmax4) = (F4::splat(t_min), F4::splat(t_max));
        let mut tn = F4::splat(0.0);
        let mut hit = 0u32;
        let mut sp = 0usize;
        let (mut cur, mut rays) = (self.root, active);
        loop {
            rays &= !hit;
            if rays != 0 {
                if cur & LEAF_BIT != 0 {
                    let first = (cur & LEAF_INDEX_MASK) as usize;
                    let count = ((cur >> 28) & 7) as usize + 1;
                    if let Some(ps) = self.packets.get(first..first + count) {
                        for p in ps {
                            let v = permuted(p, r);
                            let mut m = rays & !hit;
                            while m != 0 {
                                let j = m.trailing_zeros() as usize;
                                m &= m - 1;
                                if tri4_prepared(&v, r, op4[j], tmin4, tmax4, None) != 0 {
                                    hit |= 1 << j;
                                }
                            }
                        }
                    }
                    if hit == active {
                        return hit;
                    }
                } else if let Some(node) = self.nodes.get(cur as usize) {
                    // Per child lane, the rays entering it (bit j for ray j).
                    let pl = planes(node, r);
                    let mut acc = U4::zero();
                    let mut m = rays;
                    while m != 0 {
                        let j = m.trailing_zeros();
                        m &= m - 1;
                        let mask = slab4_mask(&pl, r, &o4[j as usize], tmin4, tmax4, &mut tn);
                        acc = acc.or(mask.select(1 << j));
                    }
                    let lane_rays = acc.to_array();
                    let ord = node.order[r.octant];
                    for k in (0..4).rev() {
                        let lane = usize::from((ord >> (2 * k)) & 3);
                        if lane_rays[lane] != 0 {
                            stack[sp & (STACK - 1)] = (node.child[lane], lane_rays[lane]);
                            sp += 1;
                        }
                    }
                }
            }
            if sp == 0 {
                return hit;
            }
            sp -= 1;
            (cur, rays) = stack[sp & (STACK - 1)];
        }
    }

    /// Where a tree's own data is checked for consistency (tests, debugging): every kept
    /// triangle sits in exactly one leaf lane and every child box holds its subtree.
    #[cfg(test)]
    fn check(&self) -> Result<(), String> {
        let mut seen = vec![false; self.tri_index.len()];
        if self.root == EMPTY_REF {
            return if self.triangle_count == 0 {
                Ok(())
            } else {
                Err("empty root with triangles".into())
            };
        }
        fn walk(b: &Bvh, r: u32, bb: Option<Aabb>, seen: &mut [bool]) -> Result<(), String> {
            if r & LEAF_BIT != 0 {
                let first = (r & LEAF_INDEX_MASK) as usize;
                let count = ((r >> 28) & 7) as usize + 1;
                for pi in first..first + count {
                    for lane in 0..4 {
                        let k = 4 * pi + lane;
                        if b.tri_index[k] == NO_TRIANGLE {
                            continue;
                        }
                        if std::mem::replace(&mut seen[k], true) {
                            return Err(format!("lane {k} twice"));
                        }
                        if let Some(bb) = bb {
                            for v in 0..3 {
                                for a in 0..3 {
                                    let x = b.packets[pi].v[v][a][lane];
                                    if x < bb.min[a] || x > bb.max[a] {
                                        return Err(format!("vertex outside box at {k}"));
                                    }
                                }
                            }
                        }
                    }
                }
                return Ok(());
            }
            let n = &b.nodes[r as usize];
            for lane in 0..4 {
                if n.child[lane] == EMPTY_REF {
                    continue;
                }
                let cb = Aabb {
                    min: [n.b[0][lane], n.b[2][lane], n.b[4][lane]],
                    max: [n.b[1][lane], n.b[3][lane], n.b[5][lane]],
                };
                if let Some(bb) = bb {
                    for a in 0..3 {
                        if cb.min[a] < bb.min[a] || cb.max[a] > bb.max[a] {
                            return Err("child box outside parent".into());
                        }
                    }
                }
                walk(b, n.child[lane], Some(cb), seen)?;
            }
            Ok(())
        }
        walk(self, self.root, Some(self.bounds), &mut seen)?;
        let used = seen.iter().filter(|s| **s).count();
        if used != self.triangle_count {
            return Err(format!(
                "{used} lanes used, {} triangles",
                self.triangle_count
            ));
        }
        Ok(())
    }
}

/// For [`Bvh::from_city`]: the first BVH triangle index of each building (and the total at
/// the end), so that triangle `t` of the tree is triangle `t − offsets[b]` of building `b`.
pub fn city_triangle_offsets(city: &twin_core::model::City) -> Vec<u32> {
    let mut out = Vec::with_capacity(city.buildings.len() + 1);
    let mut acc = 0u64;
    out.push(0);
    for b in &city.buildings {
        acc += b.surfaces.triangles.len() as u64;
        out.push(u32::try_from(acc).unwrap_or(u32::MAX));
    }
    out
}

/// Squared length of the cross product of two edges (4 × area²), in f64 from f32 vertices.
fn triangle_area2_f64(a: [f32; 3], b: [f32; 3], c: [f32; 3]) -> f64 {
    let u = [0, 1, 2].map(|i| f64::from(b[i]) - f64::from(a[i]));
    let v = [0, 1, 2].map(|i| f64::from(c[i]) - f64::from(a[i]));
    let n = [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ];
    n[0] * n[0] + n[1] * n[1] + n[2] * n[2]
}

/// Packets of four needed for `n` triangles.
#[inline]
fn blocks(n: usize) -> f32 {
    n.div_ceil(4) as f32
}

/// Bin index of a centroid coordinate (the same formula for binning and partitioning).
#[inline]
fn bin_of(c: f32, lo: f32, scale: f32, nb: usize) -> usize {
    // `as usize` saturates (and maps NaN to 0): never out of range after the `min`.
    (((c - lo) * scale) as usize).min(nb - 1)
}

/// Bins for a node of `n` primitives: [`BINS`] for large nodes, fewer for small ones (the
/// sweep over the bins costs as much as binning a small node).
#[inline]
fn bins_for(n: usize) -> usize {
    (n / 2).clamp(8, BINS)
}

/// Top-down binned-SAH build of `prims`, which occupy `start..start + prims.len()` of the
/// whole primitive array. Reorders `prims` in place.
fn build_rec(prims: &mut [Prim], start: usize, depth: usize) -> BTree {
    let n = prims.len();
    let mut bb = Aabb::EMPTY;
    let mut cb = Aabb::EMPTY;
    for p in prims.iter() {
        bb = bb.union(&p.bb);
        cb.grow(p.c);
    }
    if n == 1 {
        return BTree::Leaf {
            bb,
            start,
            count: n,
        };
    }
    let axis_ext = |a: usize| cb.max[a] - cb.min[a];
    let widest = (0..3)
        .max_by(|&a, &b| axis_ext(a).total_cmp(&axis_ext(b)).then(b.cmp(&a)))
        .unwrap_or(0);
    let mid = if axis_ext(widest) <= 0.0 {
        // All centroids coincide: no spatial split is possible.
        if n <= MAX_LEAF {
            return BTree::Leaf {
                bb,
                start,
                count: n,
            };
        }
        (n / 2, widest)
    } else if depth >= SAH_DEPTH_LIMIT {
        if n <= MAX_LEAF {
            return BTree::Leaf {
                bb,
                start,
                count: n,
            };
        }
        median_split(prims, widest)
    } else {
        match sah_split(prims, &bb, &cb) {
            Some((cost, axis, split)) => {
                let leaf_cost = blocks(n) * COST_PACKET;
                if n <= MAX_LEAF && leaf_cost <= cost {
                    return BTree::Leaf {
                        bb,
                        start,
                        count: n,
                    };
                }
                let lo = cb.min[axis];
                let nb = bins_for(n);
                let scale = nb as f32 / (cb.max[axis] - cb.min[axis]);
                let m = partition(prims, |p| bin_of(p.c[axis], lo, scale, nb) < split);
                if m == 0 || m == n {
                    median_split(prims, axis)
                } else {
                    (m, axis)
                }
            }
            None => {
                if n <= MAX_LEAF {
                    return BTree::Leaf {
                        bb,
                        start,
                        count: n,
                    };
                }
                median_split(prims, widest)
            }
        }
    };
    let (m, axis) = mid;
    let (l, r) = prims.split_at_mut(m);
    let (lt, rt) = if n > PAR_THRESHOLD {
        rayon::join(
            || build_rec(l, start, depth + 1),
            || build_rec(r, start + m, depth + 1),
        )
    } else {
        (
            build_rec(l, start, depth + 1),
            build_rec(r, start + m, depth + 1),
        )
    };
    BTree::Inner {
        bb,
        axis: axis as u8,
        kids: Box::new([lt, rt]),
    }
}

/// Split at the object median along `axis` (ties broken by primitive id: deterministic).
fn median_split(prims: &mut [Prim], axis: usize) -> (usize, usize) {
    let m = prims.len() / 2;
    prims.select_nth_unstable_by(m, |a, b| {
        a.c[axis].total_cmp(&b.c[axis]).then(a.id.cmp(&b.id))
    });
    (m, axis)
}

/// Best binned-SAH split over the three axes: (cost relative to the parent, axis, first bin
/// of the right side). `None` when no axis has centroid extent.
fn sah_split(prims: &[Prim], bb: &Aabb, cb: &Aabb) -> Option<(f32, usize, usize)> {
    let parent = bb.half_area();
    let inv_parent = if parent > 0.0 { 1.0 / parent } else { 0.0 };
    // Bin all three axes in one pass over the primitives.
    let nb = bins_for(prims.len());
    let mut lo = [0.0f32; 3];
    let mut scale = [0.0f32; 3];
    let mut usable = [false; 3];
    for a in 0..3 {
        let ext = cb.max[a] - cb.min[a];
        usable[a] = ext > 0.0 && ext.is_finite();
        lo[a] = cb.min[a];
        scale[a] = if usable[a] { nb as f32 / ext } else { 0.0 };
    }
    let mut count = [[0usize; BINS]; 3];
    let mut bins = [[Aabb::EMPTY; BINS]; 3];
    for p in prims {
        for a in 0..3 {
            let b = bin_of(p.c[a], lo[a], scale[a], nb);
            count[a][b] += 1;
            bins[a][b] = bins[a][b].union(&p.bb);
        }
    }
    let mut best: Option<(f32, usize, usize)> = None;
    for axis in (0..3).filter(|&a| usable[a]) {
        let (count, bins) = (&count[axis], &bins[axis]);
        // Sweep from the right: area and count of bins b..BINS.
        let mut right_area = [0.0f32; BINS];
        let mut right_count = [0usize; BINS];
        let mut acc = Aabb::EMPTY;
        let mut cnt = 0;
        for b in (1..nb).rev() {
            acc = acc.union(&bins[b]);
            cnt += count[b];
            right_area[b] = acc.half_area();
            right_count[b] = cnt;
        }
        let mut acc = Aabb::EMPTY;
        let mut cnt = 0;
        for split in 1..nb {
            acc = acc.union(&bins[split - 1]);
            cnt += count[split - 1];
            let rc = right_count[split];
            if cnt == 0 || rc == 0 {
                continue;
            }
            let cost = COST_TRAVERSAL
                + COST_PACKET
                    * (acc.half_area() * blocks(cnt) + right_area[split] * blocks(rc))
                    * inv_parent;
            if best.is_none_or(|(c, _, _)| cost < c) {
                best = Some((cost, axis, split));
            }
        }
    }
    best
}

/// In-place partition: elements satisfying `left` first; returns their number.
fn partition(prims: &mut [Prim], left: impl Fn(&Prim) -> bool) -> usize {
    let mut i = 0;
    let mut j = prims.len();
    while i < j {
        if left(&prims[i]) {
            i += 1;
        } else {
            j -= 1;
            prims.swap(i, j);
        }
    }
    i
}

/// A node's children while collapsing: lanes and the binary splits between them.
enum Mini {
    Lane(usize),
    Split(u8, Box<Mini>, Box<Mini>),
}

impl Mini {
    /// Replace lane `j` by a split into lanes `j` and `j + 1`, shifting later lanes.
    fn open(&mut self, j: usize, axis: u8) {
        match self {
            Mini::Lane(k) if *k == j => {
                *self = Mini::Split(axis, Box::new(Mini::Lane(j)), Box::new(Mini::Lane(j + 1)));
            }
            Mini::Lane(k) => {
                if *k > j {
                    *k += 1;
                }
            }
            Mini::Split(_, a, b) => {
                a.open(j, axis);
                b.open(j, axis);
            }
        }
    }
    /// Lanes in front-to-back order for direction octant `oct`.
    fn order(&self, oct: usize, out: &mut Vec<usize>) {
        match self {
            Mini::Lane(k) => out.push(*k),
            Mini::Split(axis, a, b) => {
                if oct & (1 << axis) != 0 {
                    b.order(oct, out);
                    a.order(oct, out);
                } else {
                    a.order(oct, out);
                    b.order(oct, out);
                }
            }
        }
    }
}

/// Collapse of the binary tree into `Node4`s and leaf packets, depth first.
struct Collapse<'a> {
    prims: &'a [Prim],
    verts: &'a [[[f32; 3]; 3]],
    ids: &'a [u32],
    payload: &'a [u32],
    out: &'a mut Bvh,
}

impl Collapse<'_> {
    /// Emit `t`; returns its reference and the depth of the 4-wide subtree.
    fn emit(&mut self, t: &BTree, depth: usize) -> (u32, usize) {
        match t {
            BTree::Leaf { start, count, .. } => (self.emit_leaf(*start, *count), depth),
            BTree::Inner { axis, kids, .. } => {
                let mut slots: Vec<&BTree> = vec![&kids[0], &kids[1]];
                let mut mini = Mini::Split(*axis, Box::new(Mini::Lane(0)), Box::new(Mini::Lane(1)));
                while slots.len() < 4 {
                    // Open the inner child with the largest surface area (first on ties).
                    let mut pick: Option<(usize, f32)> = None;
                    for (j, s) in slots.iter().enumerate() {
                        if let BTree::Inner { bb, .. } = s {
                            let a = bb.half_area();
                            if pick.is_none_or(|(_, pa)| a > pa) {
                                pick = Some((j, a));
                            }
                        }
                    }
                    let Some((j, _)) = pick else { break };
                    let BTree::Inner { axis, kids, .. } = slots[j] else {
                        break;
                    };
                    slots[j] = &kids[0];
                    slots.insert(j + 1, &kids[1]);
                    mini.open(j, *axis);
                }
                let idx = self.out.nodes.len();
                self.out.nodes.push(Node4 {
                    b: [
                        [f32::INFINITY; 4],
                        [f32::NEG_INFINITY; 4],
                        [f32::INFINITY; 4],
                        [f32::NEG_INFINITY; 4],
                        [f32::INFINITY; 4],
                        [f32::NEG_INFINITY; 4],
                    ],
                    child: [EMPTY_REF; 4],
                    order: [0; 8],
                    _pad: [0; 2],
                });
                let mut node = self.out.nodes[idx];
                let mut max_depth = depth;
                for (lane, s) in slots.iter().enumerate() {
                    let (r, d) = self.emit(s, depth + 1);
                    max_depth = max_depth.max(d);
                    let bb = s.bb();
                    for a in 0..3 {
                        node.b[2 * a][lane] = bb.min[a];
                        node.b[2 * a + 1][lane] = bb.max[a];
                    }
                    node.child[lane] = r;
                }
                let mut ord = Vec::with_capacity(4);
                for oct in 0..8 {
                    ord.clear();
                    mini.order(oct, &mut ord);
                    // Unused lanes last (their empty boxes are never entered).
                    for l in 0..4 {
                        if !ord.contains(&l) {
                            ord.push(l);
                        }
                    }
                    node.order[oct] = ord
                        .iter()
                        .enumerate()
                        .fold(0u8, |acc, (j, &l)| acc | ((l as u8) << (2 * j)));
                }
                self.out.nodes[idx] = node;
                (idx as u32, max_depth)
            }
        }
    }

    fn emit_leaf(&mut self, start: usize, count: usize) -> u32 {
        let first = self.out.packets.len();
        for chunk in self.prims[start..start + count].chunks(4) {
            let mut p = Tri4 {
                v: [[[f32::NAN; 4]; 3]; 3],
            };
            let mut idx = [NO_TRIANGLE; 4];
            let mut pay = [u32::MAX; 4];
            for (lane, prim) in chunk.iter().enumerate() {
                let id = prim.id as usize;
                let tv = &self.verts[id];
                for (pv, tvv) in p.v.iter_mut().zip(tv) {
                    for (pa, &x) in pv.iter_mut().zip(tvv) {
                        pa[lane] = x;
                    }
                }
                idx[lane] = self.ids[id];
                pay[lane] = self
                    .payload
                    .get(self.ids[id] as usize)
                    .copied()
                    .unwrap_or(u32::MAX);
            }
            self.out.packets.push(p);
            self.out.tri_index.extend_from_slice(&idx);
            self.out.tri_payload.extend_from_slice(&pay);
        }
        let n_packets = self.out.packets.len() - first;
        debug_assert!((1..=8).contains(&n_packets));
        LEAF_BIT | ((n_packets as u32 - 1) << 28) | (first as u32 & LEAF_INDEX_MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use twin_core::geom::Polygon;
    use twin_core::model::{Building, City};

    /// splitmix64: a small seeded generator for reproducible test data.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        /// Uniform in [lo, hi).
        fn f(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// World offset of the test scenes (projected metres, as in EPSG:25832).
    const W: [f64; 3] = [565_000.0, 5_933_000.0, 0.0];

    /// A city with one LoD1 box building: footprint `[x0, x0 + w] × [y0, y0 + d]` (relative
    /// to `W`), ground at `g`, height `h`.
    fn box_city(x0: f64, y0: f64, w: f64, d: f64, g: f64, h: f64) -> City {
        let mut city = City::new("box", 25832);
        city.buildings.push(box_building("b0", x0, y0, w, d, g, h));
        city
    }

    fn box_building(id: &str, x0: f64, y0: f64, w: f64, d: f64, g: f64, h: f64) -> Building {
        let (x0, y0) = (W[0] + x0, W[1] + y0);
        let mut b = Building {
            id: id.into(),
            footprint: vec![Polygon::new(vec![
                [x0, y0],
                [x0 + w, y0],
                [x0 + w, y0 + d],
                [x0, y0 + d],
            ])],
            ground_z: Some(g),
            measured_height_m: Some(h),
            ..Default::default()
        };
        b.extrude_lod1();
        b
    }

    fn sub3(a: [f64; 3], b: [f64; 3]) -> [f32; 3] {
        [
            (a[0] - b[0]) as f32,
            (a[1] - b[1]) as f32,
            (a[2] - b[2]) as f32,
        ]
    }

    /// A bitwise digest of everything a tree stores.
    fn digest(b: &Bvh) -> u64 {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        let mut put = |x: u64| {
            h ^= x;
            h = h.wrapping_mul(0x100_0000_01b3);
        };
        for n in &b.nodes {
            n.b.iter()
                .flatten()
                .for_each(|v| put(u64::from(v.to_bits())));
            n.child.iter().for_each(|&c| put(u64::from(c)));
            n.order.iter().for_each(|&o| put(u64::from(o)));
        }
        for p in &b.packets {
            p.v.iter()
                .flatten()
                .flatten()
                .for_each(|v| put(u64::from(v.to_bits())));
        }
        b.tri_index.iter().for_each(|&v| put(u64::from(v)));
        b.tri_payload.iter().for_each(|&v| put(u64::from(v)));
        put(u64::from(b.root));
        put(b.depth as u64);
        put(b.skipped as u64);
        h
    }

    /// A random triangle soup in world coordinates: clustered triangles of mixed sizes, with
    /// degenerate, non-finite and out-of-range ones mixed in (counted in the return value).
    /// Positions, triangles, payload, and the number of bad triangles.
    type Soup = (Vec<[f64; 3]>, Vec<[u32; 3]>, Vec<u32>, usize);

    fn soup(rng: &mut Rng, n: usize) -> Soup {
        let mut pos = Vec::new();
        let mut tris = Vec::new();
        let mut bad = 0;
        for k in 0..n {
            let c = [
                W[0] + rng.f(-200.0, 200.0),
                W[1] + rng.f(-200.0, 200.0),
                rng.f(0.0, 40.0),
            ];
            let s = [0.05, 1.0, 10.0, 60.0][rng.below(4)];
            let base = pos.len() as u32;
            for _ in 0..3 {
                pos.push([
                    c[0] + rng.f(-s, s),
                    c[1] + rng.f(-s, s),
                    c[2] + rng.f(-s, s),
                ]);
            }
            let mut t = [base, base + 1, base + 2];
            match k % 50 {
                0 => {
                    t[2] = t[0]; // repeated vertex
                    bad += 1;
                }
                1 => {
                    // coincident positions under distinct indices
                    pos[base as usize + 2] = pos[base as usize + 1];
                    bad += 1;
                }
                2 => {
                    pos[base as usize + 1][1] = f64::NAN;
                    bad += 1;
                }
                3 => {
                    pos[base as usize][2] = f64::INFINITY;
                    bad += 1;
                }
                4 => {
                    t[1] = u32::MAX - 7; // out of range
                    bad += 1;
                }
                _ => {}
            }
            tris.push(t);
        }
        let payload = (0..n as u32).map(|k| k * 3 + 1).collect();
        (pos, tris, payload, bad)
    }

    /// Reference ray–triangle test in f64 (Möller–Trumbore): `Some(true)` for a hit with a
    /// margin, `Some(false)` for a miss with a margin, `None` when too close to call, plus t.
    fn reference(
        o: [f64; 3],
        d: [f64; 3],
        t: [[f64; 3]; 3],
        t_min: f64,
        t_max: f64,
    ) -> (Option<bool>, f64) {
        let e1 = [0, 1, 2].map(|i| t[1][i] - t[0][i]);
        let e2 = [0, 1, 2].map(|i| t[2][i] - t[0][i]);
        let p = [
            d[1] * e2[2] - d[2] * e2[1],
            d[2] * e2[0] - d[0] * e2[2],
            d[0] * e2[1] - d[1] * e2[0],
        ];
        let det = e1[0] * p[0] + e1[1] * p[1] + e1[2] * p[2];
        let scale = (e1.iter().chain(&e2).map(|v| v * v).sum::<f64>()).sqrt()
            * (d.iter().map(|v| v * v).sum::<f64>()).sqrt();
        if det.abs() <= 1e-9 * scale * scale.max(1.0) {
            return (None, f64::NAN);
        }
        let s = [0, 1, 2].map(|i| o[i] - t[0][i]);
        let u = (s[0] * p[0] + s[1] * p[1] + s[2] * p[2]) / det;
        let q = [
            s[1] * e1[2] - s[2] * e1[1],
            s[2] * e1[0] - s[0] * e1[2],
            s[0] * e1[1] - s[1] * e1[0],
        ];
        let v = (d[0] * q[0] + d[1] * q[1] + d[2] * q[2]) / det;
        let tt = (e2[0] * q[0] + e2[1] * q[1] + e2[2] * q[2]) / det;
        const E: f64 = 1e-4;
        let tm = 1e-4 * (1.0 + tt.abs());
        let inside = u > E && v > E && u + v < 1.0 - E;
        let outside = u < -E || v < -E || u + v > 1.0 + E;
        let in_t = tt > t_min + tm && tt < t_max - tm;
        let out_t = tt < t_min - tm || tt > t_max + tm;
        let verdict = if inside && in_t {
            Some(true)
        } else if outside || out_t {
            Some(false)
        } else {
            None
        };
        (verdict, tt)
    }

    #[test]
    fn box_building_rays_from_outside_hit_rays_away_miss() {
        let city = box_city(0.0, 0.0, 10.0, 10.0, 2.0, 6.0);
        let bvh = Bvh::from_city(&city);
        assert_eq!(bvh.triangle_count(), 12);
        assert_eq!(bvh.skipped_triangles(), 0);
        bvh.check().unwrap();
        // Origin: centre of the bbox at z 0.
        assert_eq!(bvh.origin(), [W[0] + 5.0, W[1] + 5.0, 0.0]);
        let o = bvh.origin();
        let lo = |x: f64, y: f64, z: f64| sub3([W[0] + x, W[1] + y, z], o);
        // Towards the box from all sides, from above and below.
        let cases = [
            (lo(-5.0, 5.0, 4.0), [1.0, 0.0, 0.0]),
            (lo(15.0, 5.0, 4.0), [-1.0, 0.0, 0.0]),
            (lo(5.0, -5.0, 4.0), [0.0, 1.0, 0.0]),
            (lo(5.0, 15.0, 4.0), [0.0, -1.0, 0.0]),
            (lo(5.0, 5.0, 20.0), [0.0, 0.0, -1.0]),
            (lo(5.0, 5.0, -3.0), [0.0, 0.0, 1.0]),
            (lo(-20.0, -20.0, 30.0), [1.0, 1.0, -1.0]),
            (lo(-3.0, 4.0, 4.0), [0.3, 0.1, 0.05]),
        ];
        for (o, d) in cases {
            assert!(bvh.occluded(o, d, 0.0, f32::INFINITY), "{o:?} {d:?}");
            let away = d.map(|v: f32| -v);
            assert!(!bvh.occluded(o, away, 0.0, f32::INFINITY), "{o:?} {away:?}");
            // A segment that stops short of the box is free.
            assert!(!bvh.occluded(o, d, 0.0, 0.5));
        }
        // Passing beside or over the box.
        assert!(!bvh.occluded(lo(-5.0, 10.5, 4.0), [1.0, 0.0, 0.0], 0.0, f32::INFINITY));
        assert!(!bvh.occluded(lo(-5.0, 5.0, 8.5), [1.0, 0.0, 0.0], 0.0, f32::INFINITY));
        // From inside, every direction is blocked.
        assert!(bvh.occluded(lo(5.0, 5.0, 4.0), [0.2, -0.7, 0.4], 0.0, f32::INFINITY));
    }

    #[test]
    fn closest_hit_gives_exact_t_triangle_and_payload() {
        let mut city = box_city(0.0, 0.0, 10.0, 10.0, 2.0, 6.0);
        city.buildings
            .push(box_building("b1", 30.0, 0.0, 10.0, 10.0, 0.0, 20.0));
        let bvh = Bvh::from_city(&city);
        let offsets = city_triangle_offsets(&city);
        assert_eq!(offsets, vec![0, 12, 24]);
        let o = bvh.origin();
        // From x = 20 towards −x: the east wall of b0 (x = 10) at t = 10.
        let p = sub3([W[0] + 20.0, W[1] + 3.0, 5.0], o);
        let (tri, t, pay) = bvh
            .closest_hit(p, [-1.0, 0.0, 0.0], 0.0, f32::INFINITY)
            .unwrap();
        assert!((t - 10.0).abs() <= 1e-5, "t = {t}");
        assert_eq!(pay, 0);
        assert!(tri < offsets[1]);
        let b = &city.buildings[0].surfaces;
        let k = tri as usize;
        assert_eq!(b.kinds[k], twin_core::model::SurfaceKind::Wall);
        assert!(
            b.triangles[k]
                .iter()
                .all(|&i| (b.positions[i as usize][0] - (W[0] + 10.0)).abs() < 1e-9)
        );
        // Towards +x: the west wall of b1 (x = 30) at t = 10; d not unit: t scales.
        let (tri, t, pay) = bvh
            .closest_hit(p, [2.0, 0.0, 0.0], 0.0, f32::INFINITY)
            .unwrap();
        assert!((t - 5.0).abs() <= 1e-5, "t = {t}");
        assert_eq!(pay, 1);
        assert!((offsets[1]..offsets[2]).contains(&tri));
        // Down onto the roof of b1 (z = 20) from z = 50.
        let p = sub3([W[0] + 35.0, W[1] + 5.0, 50.0], o);
        let (_, t, pay) = bvh
            .closest_hit(p, [0.0, 0.0, -1.0], 0.0, f32::INFINITY)
            .unwrap();
        assert!((t - 30.0).abs() <= 1e-5, "t = {t}");
        assert_eq!(pay, 1);
        // t_min skips the first surface: the next one is the ground of b1 at z = 0.
        let (_, t, _) = bvh
            .closest_hit(p, [0.0, 0.0, -1.0], 30.5, f32::INFINITY)
            .unwrap();
        assert!((t - 50.0).abs() <= 1e-5, "t = {t}");
        assert!(
            bvh.closest_hit(p, [0.0, 0.0, 1.0], 0.0, f32::INFINITY)
                .is_none()
        );
        assert!(bvh.closest_hit(p, [0.0, 0.0, -1.0], 0.0, 29.0).is_none());
    }

    #[test]
    fn closed_box_is_watertight_at_edges_and_vertices() {
        let (w, d, g, h) = (10.0, 10.0, 2.0, 6.0);
        let city = box_city(0.0, 0.0, w, d, g, h);
        let bvh = Bvh::from_city(&city);
        let o = bvh.origin();
        let lo = |p: [f64; 3]| sub3([W[0] + p[0], W[1] + p[1], p[2]], o);
        // Lattice on the surface at 0.5 m, edges and corners included; the triangulation's
        // diagonals pass through lattice points too.
        let mut targets = Vec::new();
        let steps = |a: f64, b: f64| {
            let n = ((b - a) / 0.5).round() as usize;
            (0..=n).map(move |i| a + (b - a) * i as f64 / n as f64)
        };
        for x in steps(0.0, w) {
            for y in steps(0.0, d) {
                targets.push([x, y, g]);
                targets.push([x, y, g + h]);
            }
        }
        for z in steps(g, g + h) {
            for x in steps(0.0, w) {
                targets.push([x, 0.0, z]);
                targets.push([x, d, z]);
            }
            for y in steps(0.0, d) {
                targets.push([0.0, y, z]);
                targets.push([w, y, z]);
            }
        }
        let sources = [
            [5.0, 5.0, 5.0],
            [0.3, 0.2, 2.4],
            [9.9, 9.7, 7.9],
            [2.5, 7.5, 4.0],
            [5.0, 0.01, 5.0],
            [7.0, 3.0, 2.0 + 1e-3],
        ];
        let mut rays = 0;
        for s in sources {
            let so = lo(s);
            let mut origins = Vec::new();
            for t in &targets {
                let tl = lo(*t);
                let dir = [tl[0] - so[0], tl[1] - so[1], tl[2] - so[2]];
                assert!(
                    bvh.occluded(so, dir, 0.0, f32::INFINITY),
                    "leak from {s:?} to {t:?}"
                );
                let (_, th, _) = bvh.closest_hit(so, dir, 0.0, f32::INFINITY).unwrap();
                assert!((th - 1.0).abs() < 1e-3, "from {s:?} to {t:?}: t = {th}");
                origins.push(so);
                let mut out = [false];
                bvh.occluded_many(&[so], dir, 0.0, f32::INFINITY, &mut out);
                assert!(out[0]);
                rays += 1;
            }
        }
        assert!(rays >= 10_000, "{rays} rays");
        // Axis-aligned rays from outside (direction components exactly 0) on a grid that
        // includes the box's edges: rays in the plane of a wall hit the wall across at its
        // edge.
        let mut n_axis = 0;
        for iy in 0..=40 {
            for iz in 0..=24 {
                let (y, z) = (d * f64::from(iy) / 40.0, g + h * f64::from(iz) / 24.0);
                for (p, dir) in [
                    ([-5.0, y, z], [1.0, 0.0, 0.0]),
                    ([w + 5.0, y, z], [-1.0, 0.0, 0.0]),
                    ([y, -5.0, z], [0.0, 1.0, 0.0]),
                    ([y, d + 5.0, z], [0.0, -1.0, 0.0]),
                ] {
                    assert!(
                        bvh.occluded(lo(p), dir, 0.0, f32::INFINITY),
                        "{p:?} {dir:?}"
                    );
                    n_axis += 1;
                }
            }
        }
        assert_eq!(n_axis, 41 * 25 * 4);
        // Diagonal rays through the vertical corner edges and the corners themselves.
        for (p, dir) in [
            ([-5.0, -5.0, 4.0], [1.0, 1.0, 0.0]),
            ([w + 5.0, -5.0, 4.0], [-1.0, 1.0, 0.0]),
            ([-5.0, -5.0, g - 5.0], [1.0, 1.0, 1.0]),
            ([w + 3.0, d + 3.0, g + h + 3.0], [-1.0, -1.0, -1.0]),
        ] {
            assert!(
                bvh.occluded(lo(p), dir, 0.0, f32::INFINITY),
                "{p:?} {dir:?}"
            );
        }
    }

    #[test]
    fn occluded_many_equals_occluded_ray_by_ray() {
        let mut rng = Rng(7);
        let (pos, tris, payload, _) = soup(&mut rng, 3000);
        let origin = [W[0], W[1], 0.0];
        let bvh = Bvh::build(&pos, &tris, &payload, origin);
        let dirs: Vec<[f32; 3]> = (0..12)
            .map(|k| match k {
                0 => [1.0, 0.0, 0.0],
                1 => [0.0, 0.0, -1.0],
                2 => [0.0, -3.0, 0.5],
                _ => [
                    rng.f(-1.0, 1.0) as f32,
                    rng.f(-1.0, 1.0) as f32,
                    rng.f(-1.0, 1.0) as f32,
                ],
            })
            .collect();
        // Origins in runs (coherent, as facade points come) and scattered, with a few
        // non-finite ones; 1000 is not a multiple of the packet size.
        let mut origins = Vec::new();
        for k in 0..1000 {
            let p = if k % 100 < 60 {
                let base = (k / 100) as f64 * 30.0 - 150.0;
                [
                    base + (k % 100) as f64 * 0.5,
                    base * 0.5,
                    1.0 + (k % 7) as f64,
                ]
            } else {
                [
                    rng.f(-250.0, 250.0),
                    rng.f(-250.0, 250.0),
                    rng.f(-5.0, 60.0),
                ]
            };
            origins.push(p.map(|v| v as f32));
        }
        origins[17] = [f32::NAN, 0.0, 0.0];
        origins[500] = [0.0, f32::INFINITY, 0.0];
        for d in &dirs {
            for (t_min, t_max) in [(0.0, f32::INFINITY), (0.5, 40.0), (-10.0, 1e-3)] {
                let mut out = vec![true; origins.len() + 3];
                bvh.occluded_many(&origins, *d, t_min, t_max, &mut out);
                for (k, o) in origins.iter().enumerate() {
                    assert_eq!(out[k], bvh.occluded(*o, *d, t_min, t_max), "ray {k} {d:?}");
                }
                assert_eq!(&out[origins.len()..], &[false; 3]);
                let mut par = vec![true; origins.len()];
                bvh.occluded_many_par(&origins, *d, t_min, t_max, &mut par);
                assert_eq!(par, out[..origins.len()]);
            }
        }
        // A shorter output only gets its own rays.
        let mut out = vec![false; 10];
        bvh.occluded_many(&origins, dirs[3], 0.0, f32::INFINITY, &mut out);
        for (k, o) in origins.iter().take(10).enumerate() {
            assert_eq!(out[k], bvh.occluded(*o, dirs[3], 0.0, f32::INFINITY));
        }
    }

    #[test]
    fn random_soups_match_brute_force() {
        let mut rng = Rng(2024);
        for (case, n) in [1usize, 3, 7, 40, 600, 5000].into_iter().enumerate() {
            let (pos, tris, payload, bad) = soup(&mut rng, n);
            let origin = [W[0] + 1.5, W[1] - 2.5, 0.0];
            let bvh = Bvh::build(&pos, &tris, &payload, origin);
            bvh.check().unwrap();
            assert_eq!(bvh.skipped_triangles(), bad, "case {case}");
            assert_eq!(bvh.triangle_count(), n - bad);
            let kept: Vec<usize> = (0..n)
                .filter(|&k| {
                    let t = tris[k];
                    t.iter().all(|&i| {
                        pos.get(i as usize)
                            .is_some_and(|p| p.iter().all(|v| v.is_finite()))
                    }) && t[0] != t[1]
                        && t[1] != t[2]
                        && t[0] != t[2]
                        && k % 50 != 1
                })
                .collect();
            assert_eq!(kept.len(), n - bad);
            let local: Vec<[[f64; 3]; 3]> = kept
                .iter()
                .map(|&k| {
                    tris[k].map(|i| {
                        let p = pos[i as usize];
                        [0, 1, 2].map(|a| f64::from((p[a] - origin[a]) as f32))
                    })
                })
                .collect();
            let (mut checked, mut unclear) = (0, 0);
            for _ in 0..400 {
                let o = [
                    rng.f(-260.0, 260.0),
                    rng.f(-260.0, 260.0),
                    rng.f(-20.0, 80.0),
                ];
                let o = [o[0] - 1.5, o[1] + 2.5, o[2]].map(|v| v as f32);
                let d = [rng.f(-1.0, 1.0), rng.f(-1.0, 1.0), rng.f(-1.0, 1.0)].map(|v| v as f32);
                let t_max = if rng.below(2) == 0 {
                    f32::INFINITY
                } else {
                    rng.f(1.0, 300.0) as f32
                };
                let (of, df) = (o.map(f64::from), d.map(f64::from));
                // Exact check of the traversal: the same kernel over every packet.
                let r = DirPre::new(d).unwrap();
                let o4 = o.map(F4::splat);
                let mut tt = F4::splat(0.0);
                let mut any = false;
                let mut best = f32::INFINITY;
                for p in &bvh.packets {
                    let m = tri4(p, &r, &o4, F4::splat(0.0), F4::splat(t_max), &mut tt);
                    if m != 0 {
                        any = true;
                        let ts = tt.to_array();
                        for (lane, t) in ts.iter().enumerate() {
                            if m & (1 << lane) != 0 {
                                best = best.min(*t);
                            }
                        }
                    }
                }
                assert_eq!(bvh.occluded(o, d, 0.0, t_max), any, "case {case}");
                let ch = bvh.closest_hit(o, d, 0.0, t_max);
                assert_eq!(ch.is_some(), any);
                if let Some((tri, t, pay)) = ch {
                    assert_eq!(t, best, "case {case}");
                    assert_eq!(pay, payload[tri as usize]);
                }
                // Against the f64 reference, where it is clear-cut.
                let verdicts: Vec<(Option<bool>, f64)> = local
                    .iter()
                    .map(|t| reference(of, df, *t, 0.0, f64::from(t_max)))
                    .collect();
                if verdicts.iter().any(|v| v.0 == Some(true)) {
                    assert!(any, "case {case}: missed a clear hit");
                    checked += 1;
                } else if verdicts.iter().all(|v| v.0 == Some(false)) {
                    assert!(!any, "case {case}: hit where every triangle clearly misses");
                    checked += 1;
                } else {
                    unclear += 1;
                }
                if let Some((tri, t, _)) = ch {
                    let k = kept.iter().position(|&k| k == tri as usize).unwrap();
                    let (v, tr) = verdicts[k];
                    if v == Some(true) {
                        assert!(
                            (f64::from(t) - tr).abs() <= 1e-3 * (1.0 + tr),
                            "t {t} vs {tr}"
                        );
                    }
                    // Nothing clearly closer.
                    for (j, (vj, tj)) in verdicts.iter().enumerate() {
                        if *vj == Some(true) && j != k {
                            assert!(
                                *tj >= f64::from(t) - 1e-3 * (1.0 + tj),
                                "closer hit {tj} < {t}"
                            );
                        }
                    }
                }
            }
            assert!(
                unclear * 20 <= checked.max(1),
                "case {case}: {unclear} unclear of {checked}"
            );
        }
    }

    #[test]
    fn build_is_identical_for_any_thread_count() {
        let mut rng = Rng(99);
        let (pos, tris, payload, _) = soup(&mut rng, 20_000);
        let build = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| Bvh::build(&pos, &tris, &payload, [W[0], W[1], 0.0]))
        };
        let reference = build(1);
        reference.check().unwrap();
        assert!(reference.node_count() > 100);
        let dig = digest(&reference);
        for threads in [2, 3, 4, 8] {
            let b = build(threads);
            assert_eq!(digest(&b), dig, "{threads} threads");
            assert_eq!(b.nodes.len(), reference.nodes.len());
        }
        // Also the same tree when built again on the global pool.
        assert_eq!(
            digest(&Bvh::build(&pos, &tris, &payload, [W[0], W[1], 0.0])),
            dig
        );
    }

    #[test]
    fn bad_input_is_skipped_not_a_panic() {
        let o = [0.0; 3];
        let empty = Bvh::build(&[], &[], &[], o);
        assert_eq!(
            (empty.triangle_count(), empty.node_count(), empty.depth()),
            (0, 0, 0)
        );
        assert!(empty.bounds().is_none());
        assert!(!empty.occluded([0.0; 3], [0.0, 0.0, 1.0], 0.0, f32::INFINITY));
        assert!(
            empty
                .closest_hit([0.0; 3], [0.0, 0.0, 1.0], 0.0, f32::INFINITY)
                .is_none()
        );
        let mut out = [true; 3];
        empty.occluded_many(&[[0.0; 3]; 3], [0.0, 0.0, 1.0], 0.0, 1.0, &mut out);
        assert_eq!(out, [false; 3]);

        let pos = [
            [0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [0.0, 1.0, 0.0],
            [f64::NAN, 0.0, 0.0],
            [2.0, 0.0, 0.0],
            [1e39, 0.0, 0.0], // beyond f32
        ];
        let tris = [
            [0, 1, 2],
            [0, 1, 3],
            [0, 0, 1],
            [0, 1, 4], // collinear
            [0, 1, 9],
            [0, 5, 2],
            [2, 1, 0],
        ];
        let b = Bvh::build(&pos, &tris, &[5], [f64::NAN, 0.0, 0.0]);
        assert_eq!(b.triangle_count(), 2);
        assert_eq!(b.skipped_triangles(), 5);
        assert_eq!(b.origin(), [0.0; 3]);
        b.check().unwrap();
        let (tri, t, pay) = b
            .closest_hit([0.2, 0.2, 1.0], [0.0, 0.0, -1.0], 0.0, 5.0)
            .unwrap();
        assert_eq!(t, 1.0);
        // Both kept triangles coincide; payload only exists for triangle 0.
        assert!(
            tri == 0 && pay == 5 || tri == 6 && pay == u32::MAX,
            "{tri} {pay}"
        );
        // Rays with bad data never hit.
        for (o, d, a, z) in [
            ([0.2, 0.2, f32::NAN], [0.0, 0.0, -1.0], 0.0, 5.0),
            ([0.2, 0.2, 1.0], [0.0, 0.0, 0.0], 0.0, 5.0),
            ([0.2, 0.2, 1.0], [0.0, f32::NAN, -1.0], 0.0, 5.0),
            ([0.2, 0.2, 1.0], [0.0, f32::INFINITY, -1.0], 0.0, 5.0),
            ([0.2, 0.2, 1.0], [0.0, 0.0, -1.0], f32::NAN, 5.0),
            ([0.2, 0.2, 1.0], [0.0, 0.0, -1.0], 0.0, f32::NAN),
            ([0.2, 0.2, 1.0], [0.0, 0.0, -1.0], 2.0, 1.0),
        ] {
            assert!(!b.occluded(o, d, a, z));
            assert!(b.closest_hit(o, d, a, z).is_none());
            let mut out = [true];
            b.occluded_many(&[o], d, a, z, &mut out);
            assert!(!out[0]);
        }
        // Tiny, subnormal and zero direction components work.
        assert!(b.occluded([0.2, 0.2, 1.0], [1e-38, -1e-40, -1e-30], 0.0, f32::INFINITY));
        assert!(b.occluded([0.0, 0.0, 1.0], [0.0, -0.0, -1.0], 0.0, f32::INFINITY));
        assert!(b.occluded([1.0, 0.0, 1.0], [0.0, 0.0, -1.0], 0.0, f32::INFINITY));
    }

    #[test]
    fn depth_stays_bounded_on_pathological_input() {
        // Exponentially spaced triangles (an SAH worst case) and many identical ones.
        let mut pos = Vec::new();
        let mut tris = Vec::new();
        for k in 0..3000u32 {
            let x = 1.001f64.powi(k as i32 * 8) - 1.0;
            let b = pos.len() as u32;
            pos.extend([[x, 0.0, 0.0], [x + 1e-3, 1.0, 0.0], [x, 0.0, 1.0]]);
            tris.push([b, b + 1, b + 2]);
        }
        let b = pos.len() as u32;
        pos.extend([[5.0, 5.0, 5.0], [6.0, 5.0, 5.0], [5.0, 6.0, 5.0]]);
        for _ in 0..2000 {
            tris.push([b, b + 1, b + 2]);
        }
        let bvh = Bvh::build(&pos, &tris, &[], [0.0; 3]);
        bvh.check().unwrap();
        assert_eq!(bvh.triangle_count(), 5000);
        assert!(3 * bvh.depth() + 4 <= STACK, "depth {}", bvh.depth());
        assert!(bvh.occluded([5.2, 5.2, 9.0], [0.0, 0.0, -1.0], 0.0, f32::INFINITY));
        assert!(bvh.occluded([0.0, 0.2, 0.2], [1.0, 0.0, 0.0], 1e-2, f32::INFINITY));
    }

    #[test]
    fn lane_operations_follow_the_maxps_rules() {
        let nan = f32::NAN;
        let a = F4::load(&[1.0, nan, 3.0, -0.0]);
        let b = F4::load(&[2.0, 5.0, nan, 0.0]);
        // The second operand when either is NaN (the slab test depends on it).
        assert_eq!(a.max(b).to_array()[..1], [2.0]);
        assert_eq!(a.max(b).to_array()[1], 5.0);
        assert!(a.max(b).to_array()[2].is_nan());
        assert_eq!(a.min(b).to_array()[1], 5.0);
        assert!(a.min(b).to_array()[2].is_nan());
        assert_eq!(a.min(b).to_array()[0], 1.0);
        // -0.0 vs 0.0 compare equal: the second one is kept.
        assert_eq!(a.max(b).to_array()[3].to_bits(), 0.0f32.to_bits());
        assert_eq!(a.lt(b).bits(), 0b0001);
        assert_eq!(a.le(b).bits(), 0b1001);
        assert_eq!(a.eq(b).bits(), 0b1000);
        assert_eq!(a.lt(b).or(a.eq(b)).bits(), 0b1001);
        assert_eq!(a.lt(b).and(a.le(b)).bits(), 0b0001);
        assert_eq!(a.lt(b).andnot(a.le(b)).bits(), 0b1000);
        assert_eq!(
            a.le(b).select(1 << 31).or(U4::zero()).to_array(),
            [1 << 31, 0, 0, 1 << 31]
        );
        let s = F4::load(&[-1.0, 2.0, -0.0, 0.0]);
        assert_eq!(
            F4::load(&[3.0, 3.0, 3.0, 3.0]).xor_sign(s).to_array(),
            [-3.0, 3.0, -3.0, 3.0]
        );
        assert_eq!(
            s.abs().to_array().map(f32::to_bits),
            [1.0f32, 2.0, 0.0, 0.0].map(f32::to_bits)
        );
        assert_eq!(
            F4::splat(2.0)
                .mul(F4::splat(3.0))
                .sub(F4::splat(1.0))
                .to_array(),
            [5.0; 4]
        );
        assert_eq!(
            F4::splat(6.0)
                .div(F4::splat(4.0))
                .add(F4::splat(0.5))
                .to_array(),
            [2.0; 4]
        );
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn sse_and_portable_lanes_agree() {
        use super::lanes::{portable as p, sse as s};
        let mut rng = Rng(5);
        let special = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            1e-40,
            3e38,
        ];
        let pick = |rng: &mut Rng| -> [f32; 4] {
            [0; 4].map(|_| {
                if rng.below(3) == 0 {
                    special[rng.below(special.len())]
                } else {
                    rng.f(-1e3, 1e3) as f32
                }
            })
        };
        let same = |a: [f32; 4], b: [f32; 4]| {
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.to_bits() == y.to_bits() || x.is_nan() && y.is_nan())
        };
        for _ in 0..2000 {
            let (a, b) = (pick(&mut rng), pick(&mut rng));
            let (sa, sb) = (s::F4::load(&a), s::F4::load(&b));
            let (pa, pb) = (p::F4::load(&a), p::F4::load(&b));
            assert!(same(sa.add(sb).to_array(), pa.add(pb).to_array()));
            assert!(same(sa.sub(sb).to_array(), pa.sub(pb).to_array()));
            assert!(same(sa.mul(sb).to_array(), pa.mul(pb).to_array()));
            assert!(same(sa.div(sb).to_array(), pa.div(pb).to_array()));
            assert!(
                same(sa.max(sb).to_array(), pa.max(pb).to_array()),
                "{a:?} {b:?}"
            );
            assert!(
                same(sa.min(sb).to_array(), pa.min(pb).to_array()),
                "{a:?} {b:?}"
            );
            assert!(same(sa.xor_sign(sb).to_array(), pa.xor_sign(pb).to_array()));
            assert!(same(sa.abs().to_array(), pa.abs().to_array()));
            assert!(same(
                s::F4::splat(a[1]).to_array(),
                p::F4::splat(a[1]).to_array()
            ));
            assert_eq!(sa.lt(sb).bits(), pa.lt(pb).bits());
            assert_eq!(sa.le(sb).bits(), pa.le(pb).bits());
            assert_eq!(sa.eq(sb).bits(), pa.eq(pb).bits());
            assert_eq!(sa.eq(sb).any(), pa.eq(pb).any());
            let (sm, pm) = (sa.lt(sb).or(sa.eq(sb)), pa.lt(pb).or(pa.eq(pb)));
            assert_eq!(sm.bits(), pm.bits());
            assert_eq!(sm.and(sa.le(sb)).bits(), pm.and(pa.le(pb)).bits());
            assert_eq!(sm.andnot(sb.lt(sa)).bits(), pm.andnot(pb.lt(pa)).bits());
            let bit = 1u32 << rng.below(32);
            assert_eq!(
                sm.select(bit).or(s::U4::zero()).to_array(),
                pm.select(bit).or(p::U4::zero()).to_array()
            );
        }
    }
}
