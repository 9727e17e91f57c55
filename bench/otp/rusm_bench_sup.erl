%% One_for_one supervisor of one rusm_bench_srv child (sup_restart workload).
-module(rusm_bench_sup).
-behaviour(supervisor).
-export([start_link/2, init/1]).

start_link(Driver, Cycles) ->
    supervisor:start_link(?MODULE, {Driver, Cycles}).

init({Driver, Cycles}) ->
    %% Intensity high enough that the benchmark's crashes never exceed it.
    Flags = #{strategy => one_for_one, intensity => 2 * Cycles + 10, period => 1},
    Child = #{id => worker,
              start => {rusm_bench_srv, start_link, [Driver]},
              restart => permanent,
              shutdown => brutal_kill,
              type => worker},
    {ok, {Flags, [Child]}}.
