/*
 * block_sample.c
 *	  whatsapp_auth.block_sample(n): a TABLESAMPLE method reading one block
 *	  in every n, whose cost follows the sample, not the table.
 *
 * The built-in SYSTEM method decides block by block, hashing every block
 * number of the table to keep about a percent of them, so a sample of a few
 * thousand blocks of a large table still costs a pass over all of its block
 * numbers.  This method cuts the table into strata of n blocks and reads
 * one block of each, chosen by a hash of the stratum and the seed: every
 * block is read with the same probability, 1 / n, the work is one hash per
 * block read, and the blocks come in table order.  The strata do not depend
 * on the table's size, so with the same n and seed a growing table keeps
 * its sampled blocks and gains new ones at its end.
 *
 * The sampled blocks are read through shared buffers as any scan reads a
 * few pages (no bulk-read ring), so that a monitor's next call finds them
 * there: health() keeps the sample to about whatsapp_auth.health_sample_rows
 * rows, whatever the table's size.
 */
#include "postgres.h"

#include "access/tsmapi.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(wa_block_sample_handler);

/* A scan's state: where it is in the strata, and in the current block. */
typedef struct BlockSampler
{
	uint32		stride;			/* n: blocks per stratum */
	uint32		seed;
	BlockNumber next_stratum;
	OffsetNumber last_offset;	/* in the current block; 0 before its first */
} BlockSampler;

/* The argument n: at least 1, or 2202H naming it. */
static uint32
sample_stride(Datum arg)
{
	int32		n = DatumGetInt32(arg);

	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLESAMPLE_ARGUMENT),
				 errmsg("block_sample reads one block in every n: n = %d is not at least 1", n)));
	return (uint32) n;
}

/*
 * The planner's view: one in n of the pages and of the rows, or a tenth of
 * each while n is not yet a constant.
 */
static void
block_sample_size(PlannerInfo *root, RelOptInfo *baserel, List *paramexprs,
				  BlockNumber *pages, double *tuples)
{
	Node	   *arg = estimate_expression_value(root, linitial(paramexprs));
	double		fraction = 0.1;

	if (IsA(arg, Const) && !((Const *) arg)->constisnull)
	{
		int32		n = DatumGetInt32(((Const *) arg)->constvalue);

		if (n >= 1)
			fraction = 1.0 / n;
	}
	*pages = (BlockNumber) clamp_row_est(baserel->pages * fraction);
	*tuples = clamp_row_est(baserel->tuples * fraction);
}

static void
block_sample_init(SampleScanState *node, int eflags)
{
	(void) eflags;
	node->tsm_state = palloc0(sizeof(BlockSampler));
}

static void
block_sample_begin(SampleScanState *node, Datum *params, int nparams, uint32 seed)
{
	BlockSampler *sampler = (BlockSampler *) node->tsm_state;

	(void) nparams;
	sampler->stride = sample_stride(params[0]);
	sampler->seed = seed;
	sampler->next_stratum = 0;
	sampler->last_offset = 0;
	/* a few blocks read to be kept, not a table streamed through a ring */
	node->use_bulkread = false;
	node->use_pagemode = true;
}

/* The next stratum's block, or none past the table's end. */
static BlockNumber
block_sample_next_block(SampleScanState *node, BlockNumber nblocks)
{
	BlockSampler *sampler = (BlockSampler *) node->tsm_state;
	uint32		hash_input[2];
	uint64		block;

	hash_input[0] = sampler->next_stratum;
	hash_input[1] = sampler->seed;
	block = (uint64) sampler->next_stratum * sampler->stride +
		hash_bytes((const unsigned char *) hash_input, sizeof(hash_input)) % sampler->stride;
	if (block >= nblocks)
		return InvalidBlockNumber;
	sampler->next_stratum++;
	sampler->last_offset = 0;
	return (BlockNumber) block;
}

/* Every tuple of a sampled block. */
static OffsetNumber
block_sample_next_tuple(SampleScanState *node, BlockNumber blockno, OffsetNumber maxoffset)
{
	BlockSampler *sampler = (BlockSampler *) node->tsm_state;

	(void) blockno;
	if (sampler->last_offset >= maxoffset)
		return InvalidOffsetNumber;
	return ++sampler->last_offset;
}

Datum
wa_block_sample_handler(PG_FUNCTION_ARGS)
{
	TsmRoutine *tsm = makeNode(TsmRoutine);

	(void) fcinfo;
	tsm->parameterTypes = list_make1_oid(INT4OID);
	tsm->repeatable_across_queries = true;
	tsm->repeatable_across_scans = true;
	tsm->SampleScanGetSampleSize = block_sample_size;
	tsm->InitSampleScan = block_sample_init;
	tsm->BeginSampleScan = block_sample_begin;
	tsm->NextSampleBlock = block_sample_next_block;
	tsm->NextSampleTuple = block_sample_next_tuple;
	tsm->EndSampleScan = NULL;
	PG_RETURN_POINTER(tsm);
}
