# whatsapp_auth: PGXS build.  `make && make install`, then `make installcheck`
# against a running server (test/check does all of it on a throwaway cluster).

EXTENSION = whatsapp_auth
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = $(EXTENSION)
OBJS = $(patsubst %.c,%.o,$(wildcard src/*.c))
PG_CONFIG ?= pg_config
PGFILEDESC = "whatsapp_auth - Baileys auth state store"

# Install scripts live in sql/ next to the regression inputs; pg_regress only
# runs what REGRESS names, so the two never mix.
DATA = $(wildcard sql/$(EXTENSION)--*.sql)

# The router, a second extension (PL/Proxy functions in front of partitions
# running whatsapp_auth, and a small library of its own for the routing):
# its control file, install scripts and library are installed beside the
# store's.
ROUTER = whatsapp_auth_router
DATA += $(ROUTER).control $(wildcard sql/$(ROUTER)--*.sql)
MODULES = $(ROUTER)
vpath $(ROUTER).c router

REGRESS = $(sort $(filter-out $(EXTENSION)--% $(ROUTER)--%,$(patsubst sql/%.sql,%,$(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

# Concurrency specs (isolationtester) live in test/isolation; `make
# installcheck` runs them after the regression tests.
ISOLATION = $(sort $(patsubst test/isolation/specs/%.spec,%,$(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=$(EXTENSION)

# Warnings are errors in our code; -isystem keeps -Wextra off the server's
# own headers, which are not written for it.
PG_CPPFLAGS = -Isrc -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CFLAGS = -Wall -Wextra -Werror

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: a struct changed in a header must
# rebuild every object that may use it (a stale one crashes the server).
HEADERS = $(wildcard src/*.h)
$(OBJS) $(OBJS:.o=.bc) $(ROUTER).o $(ROUTER).bc: $(HEADERS)
