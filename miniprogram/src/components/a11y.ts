/**
 * Spread on a View that keyboard users must reach (H5): Taro's View types omit tabIndex, mini-programs ignore it.
 * Taro's H5 page is a scrolling container, which axe requires to hold something focusable.
 */
export const FOCUSABLE = { tabIndex: 0 } as object;
