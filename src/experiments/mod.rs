//! The two experiments of the narrative. Each part has its plan (budgets per profile), its
//! results schema and its run loop.
pub mod part1;
pub mod part2;
pub mod reuse;
pub mod seeds;
