//! AWS Resource Access Manager: resource shares, which make a transit gateway or a Resolver rule of one
//! account usable by the organization, some of its OUs or some accounts.

pub mod resource_share;
