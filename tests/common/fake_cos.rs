//! Fake COS (OWNER: COS helper).
