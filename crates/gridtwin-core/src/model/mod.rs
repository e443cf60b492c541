//! The city model: codes and their rule, categories, areas, components, incidents,
//! buildings and roads, the city, the data-quality ledger, and the error of parsing
//! a name of a closed set.

pub mod area;
pub mod building;
pub mod category;
pub mod city;
pub mod code;
pub mod component;
pub mod incident;
pub mod parse;
pub mod quality;
