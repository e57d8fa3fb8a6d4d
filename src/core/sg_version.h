/* sg_version: the one place StreamGuard's version is written (CLI, Parquet created_by,
 * reports, model files). */
#ifndef SG_VERSION_H
#define SG_VERSION_H

#define SG_VERSION "0.1.0"

#endif
