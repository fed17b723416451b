from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from formation_hub.api.errors import error_responses
from formation_hub.api.serializers import GateDecisionSerializer, GateSerializer
from formation_hub.gates.decisions import gate_decide, gates_waiting_for
from formation_hub.models import Gate


class GateList(generics.ListAPIView):
    """Pending gates; `?waiting=me` keeps only those the caller may decide."""

    serializer_class = GateSerializer

    @extend_schema(parameters=[OpenApiParameter("waiting", str, enum=["me"], required=False)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if self.request.query_params.get("waiting") == "me":
            return gates_waiting_for(self.request.user)
        return Gate.objects.filter(state=Gate.State.PENDING).select_related(
            "content_type", "requested_by", "decided_by"
        )


class GateDecide(APIView):
    """Decide a gate: the same service as the console, with the same refusals."""

    @extend_schema(
        request=GateDecisionSerializer,
        responses={200: GateSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk):
        gate = get_object_or_404(Gate, pk=pk)
        serializer = GateDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        gate = gate_decide(gate=gate, user=request.user, **serializer.validated_data)
        return Response(GateSerializer(gate).data)
