package security

import (
	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// Rule is who may call one method.
type Rule struct {
	// Public methods need no credentials (health checks).
	Public bool
	// Roles admitted; an identity with any other role gets PermissionDenied.
	Roles []Role
}

// Role sets used in Policy.
var (
	jobWriters  = []Role{RoleAdmin, RoleSubmitter}
	jobReaders  = []Role{RoleAdmin, RoleSubmitter, RoleReadOnly}
	agents      = []Role{RoleAgent}
	storeReader = []Role{RoleAdmin, RoleSubmitter, RoleReadOnly, RoleAgent, RoleCoordinator}
	everyone    = AllRoles
)

// Policy is the per-method table every server checks. A method missing
// here is refused (PermissionDenied) for everybody; policy_test.go fails
// when a generated method has no entry.
var Policy = map[string]Rule{
	v1.JobService_SubmitJob_FullMethodName:     {Roles: jobWriters},
	v1.JobService_GetJob_FullMethodName:        {Roles: jobReaders},
	v1.JobService_ListJobs_FullMethodName:      {Roles: jobReaders},
	v1.JobService_CancelJob_FullMethodName:     {Roles: jobWriters},
	v1.JobService_RetryJob_FullMethodName:      {Roles: jobWriters},
	v1.JobService_WatchJob_FullMethodName:      {Roles: jobReaders},
	v1.JobService_TransferAsset_FullMethodName: {Roles: jobWriters},
	v1.JobService_ReencodeAsset_FullMethodName: {Roles: jobWriters},

	// The cluster overview (vodfleet cluster) is read-only.
	v1.ClusterService_GetCluster_FullMethodName: {Roles: jobReaders},

	// Catalog: submitters edit their assets' metadata; presets and named
	// destinations are configuration, changed by admins only.
	v1.CatalogService_GetAsset_FullMethodName:     {Roles: jobReaders},
	v1.CatalogService_SearchAssets_FullMethodName: {Roles: jobReaders},
	v1.CatalogService_UpdateAsset_FullMethodName:  {Roles: jobWriters},
	// Deleting a record goes with deleting the asset's files, which only
	// admins may do (StorageService.DeleteAsset).
	v1.CatalogService_DeleteAsset_FullMethodName:           {Roles: []Role{RoleAdmin}},
	v1.PresetService_ListPresets_FullMethodName:            {Roles: jobReaders},
	v1.PresetService_GetPreset_FullMethodName:              {Roles: jobReaders},
	v1.PresetService_SetPreset_FullMethodName:              {Roles: []Role{RoleAdmin}},
	v1.PresetService_DeletePreset_FullMethodName:           {Roles: []Role{RoleAdmin}},
	v1.DestinationService_ListDestinations_FullMethodName:  {Roles: jobReaders},
	v1.DestinationService_AddDestination_FullMethodName:    {Roles: []Role{RoleAdmin}},
	v1.DestinationService_DeleteDestination_FullMethodName: {Roles: []Role{RoleAdmin}},

	v1.AgentService_Connect_FullMethodName:      {Roles: agents},
	v1.AgentService_CompleteTask_FullMethodName: {Roles: agents},
	v1.AgentService_FailTask_FullMethodName:     {Roles: agents},

	// Sources are uploaded by submitters (the CLI) and outputs by agents.
	v1.StorageService_Put_FullMethodName:  {Roles: []Role{RoleAdmin, RoleSubmitter, RoleAgent}},
	v1.StorageService_Get_FullMethodName:  {Roles: storeReader},
	v1.StorageService_Stat_FullMethodName: {Roles: storeReader},
	v1.StorageService_List_FullMethodName: {Roles: storeReader},
	// Publishing moves staged outputs into an asset: the leader's job.
	v1.StorageService_Publish_FullMethodName:     {Roles: []Role{RoleAdmin, RoleCoordinator}},
	v1.StorageService_ListAssets_FullMethodName:  {Roles: []Role{RoleAdmin, RoleSubmitter, RoleReadOnly, RoleCoordinator}},
	v1.StorageService_DeleteAsset_FullMethodName: {Roles: []Role{RoleAdmin, RoleCoordinator}},

	// Standard services other parts of vodfleet register on the same
	// listeners: health is probed by load balancers without credentials;
	// reflection describes the API to any authenticated caller.
	"/grpc.health.v1.Health/Check":                                   {Public: true},
	"/grpc.health.v1.Health/Watch":                                   {Public: true},
	"/grpc.health.v1.Health/List":                                    {Public: true},
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      {Roles: everyone},
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": {Roles: everyone},
}

// Allowed reports whether role may call method.
func Allowed(method string, role Role) bool {
	r, ok := Policy[method]
	if !ok {
		return false
	}
	if r.Public {
		return true
	}
	for _, x := range r.Roles {
		if x == role {
			return true
		}
	}
	return false
}
