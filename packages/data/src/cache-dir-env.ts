/** Environment variable that overrides the default cache directory (Node). */
export const DATA_DIR_ENV = 'TINYTAPE_DATA_DIR';
