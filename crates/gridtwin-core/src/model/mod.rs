//! The city model: codes and their rule, categories, areas, components, incidents,
//! buildings and roads, the city, and the data-quality ledger.

pub mod area;
pub mod building;
pub mod category;
pub mod city;
pub mod code;
pub mod component;
pub mod incident;
pub mod quality;
