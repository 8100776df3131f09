export { CompiledGraph, type HostTensor, Runtime, type RuntimeOptions } from "./session.js";
