// Type-checking and tests only: the build takes index.<TARO_ENV>.ts in its place (Taro's per-platform files).
import adapter from './index.h5';

export default adapter;
