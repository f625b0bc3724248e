//! Fake SCF runtime API (OWNER: runtime helper).
