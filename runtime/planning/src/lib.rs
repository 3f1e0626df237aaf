//! Planning a contact center: the discrete-event simulator of a day on the real engine
//! (`simulate`) and Erlang C/A staffing (`staffing`).

pub mod simulate;
pub mod staffing;
