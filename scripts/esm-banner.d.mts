/** See esm-banner.mjs. */
export declare const ESM_BANNER: string;
