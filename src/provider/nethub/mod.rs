//! The network hub: a transit gateway in the network account that workload VPCs attach to, its route
//! tables and routes. The EC2 kinds' shared helpers (batched reads, tags, filters) are used as they are.

pub mod route_table;
pub mod transit_gateway;
pub mod vpc_attachment;
