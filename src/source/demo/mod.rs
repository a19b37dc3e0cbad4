//! The embedded demo mesh: a simulated Istio mesh whose traffic follows its routes. Imports `mesh` only.
