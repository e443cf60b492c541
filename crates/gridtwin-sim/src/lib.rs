//! gridtwin-sim: discrete-event simulation of the closed case loop.
//!
//! This crate holds the simulation's foundations: the [`queue::EventQueue`] ordered by
//! (time, sequence number) so that ties resolve the same way on every run, and the
//! [`calendar::WorkingCalendar`] that turns a category's time limit in working hours
//! into a deadline. It depends on the city model only.

pub mod calendar;
pub mod queue;

pub use calendar::WorkingCalendar;
pub use queue::EventQueue;
