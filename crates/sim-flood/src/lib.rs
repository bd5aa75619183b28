//! # sim-flood
//!
//! Storm-surge and heavy-rain flood engine: a 2D local inertial shallow-water solver on the
//! raster grid of `twin-core` (Bates et al. 2010, with the q-centred scheme of de Almeida et
//! al. 2012), semi-implicit Manning friction, an adaptive CFL time step, wetting and drying,
//! a Froude limit on face fluxes, barriers with the weir law, breaches and mobile walls,
//! rain, inflows, water-level boundaries, infiltration and sewer losses.
//!
//! Pure computation: no file or network IO. Fill a [`FloodSetup`], build a [`Simulation`],
//! call [`Simulation::advance_to`] (snapshots in between with [`Simulation::depth`]) and
//! read [`Simulation::results`].
//!
//! ```
//! use sim_flood::{FloodSetup, Simulation, Region, Rain};
//! use twin_core::raster::{GridSpec, Raster};
//! use twin_core::timeseries::{Interpolation, TimeSeries};
//!
//! let spec = GridSpec { origin_x: 0.0, origin_y: 100.0, cell_x: 2.0, cell_y: 2.0,
//!                       width: 50, height: 50, epsg: Some(25832) };
//! let dem = Raster::from_vec(spec, (0..2500).map(|k| (k % 50) as f32 * 0.01).collect(), None).unwrap();
//! let mut setup = FloodSetup::new(dem);
//! setup.params.duration_s = 600.0;
//! setup.rain.push(Rain {
//!     region: Region::All,
//!     mm_h: TimeSeries::new(&[(0.0, 36.0), (600.0, 0.0)], Interpolation::Step, "rain").unwrap(),
//! });
//! let mut sim = Simulation::new(&setup).unwrap();
//! sim.run().unwrap();
//! let r = sim.results();
//! // 36 mm/h for 10 minutes on a closed 100 x 100 m basin: 6 mm, 60 m³, all still there.
//! assert!((r.mass.rain_m3 - 60.0).abs() < 1e-9);
//! assert!(r.mass.relative_error < 1e-12);
//! ```

mod bands;
mod error;
mod grid;
pub mod kernel;
mod results;
mod setup;
mod solver;

pub use bands::Isa;
pub use error::{FloodError, Result};
pub use grid::{TILE_COLS, TILE_ROWS};
pub use results::{FloodResults, GaugeRow, HAZARD_CLASS_NAMES, MassBalance, RunStats};
pub use setup::{
    Barrier, Breach, BuildingMode, EdgeKind, Edges, FloodSetup, Friction, Gauge, Infiltration,
    Inflow, Losses, Params, Rain, Region, WaterLevel,
};
pub use solver::Simulation;
