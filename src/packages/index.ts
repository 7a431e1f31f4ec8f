/** Python packages of a revision (CONTRACT section 11): wheels found, checked, cached and installed. */
export { installPackages, packageOptions, type InstalledPackages, type PackageOptions } from './install-packages.js';
export { prunePackages } from './prune-packages.js';
