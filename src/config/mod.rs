//! What a run is asked to do: profiles and their plans (recipes as data), `--plan` patches and
//! their checks, where data and weights are found, and the run directory.
pub mod json_diff;
pub mod manifest;
pub mod paths;
pub mod plan_check;
pub mod plan_patch;
pub mod profile;
pub mod run;
